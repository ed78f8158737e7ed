package admin_test

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/admin"
	"github.com/authd/authd/internal/client"
	"github.com/authd/authd/internal/resource"
	"github.com/authd/authd/internal/secevent"
	"github.com/authd/authd/internal/store"
)

// resourceHarness serves the admin API with resources; changed records the
// indicators whose caches were dropped (before and after each change).
func resourceHarness(t *testing.T) (*harness, *recorder, *[]string) {
	h := newHarness(t)
	rec := &recorder{}
	var changed []string
	res := resource.New(h.db, resource.Options{MaxTokenTTL: 24 * time.Hour, Events: rec,
		Changed: func(_ context.Context, before, after *store.Resource) {
			for _, r := range []*store.Resource{before, after} {
				if r != nil {
					changed = append(changed, r.Indicator)
				}
			}
		}})
	h.srv = admin.New(admin.Deps{Clients: client.New(h.db, client.Options{}), Keys: h.keys, Resources: res},
		slog.New(slog.DiscardHandler), admin.Options{Token: adminToken})
	return h, rec, &changed
}

func TestResources(t *testing.T) {
	h, rec, changed := resourceHarness(t)
	body := `{"resource":"https://api.example.com/","name":"Orders","scope":"orders:read orders:write",
		"access_token_format":"opaque","access_token_ttl":300,"introspecting_clients":["rs"]}`
	w, m := h.do("POST", "/admin/resources", body, adminToken)
	if w.Code != http.StatusCreated || m["id"] == "" || m["resource"] != "https://api.example.com/" || m["scope"] != "orders:read orders:write" ||
		m["access_token_format"] != "opaque" || m["access_token_ttl"] != 300.0 || m["introspecting_clients"].([]any)[0] != "rs" {
		t.Fatalf("create: %d %v", w.Code, m)
	}
	id := m["id"].(string)
	if w.Header().Get("Location") != "/admin/resources/"+id {
		t.Fatalf("Location = %q", w.Header().Get("Location"))
	}
	if w, m := h.do("POST", "/admin/resources", `{"resource":"https://api.example.com/"}`, adminToken); w.Code != http.StatusConflict || m["field"] != "resource" {
		t.Fatalf("same indicator again: %d %v", w.Code, m)
	}
	if w, _ := h.do("POST", "/admin/resources", `{"resource":"urn:example:billing","scope":"bill"}`, adminToken); w.Code != http.StatusCreated {
		t.Fatalf("second: %d", w.Code)
	}
	w, m = h.do("GET", "/admin/resources", "", adminToken)
	list := m["resources"].([]any)
	if w.Code != 200 || len(list) != 2 || list[0].(map[string]any)["resource"] != "https://api.example.com/" {
		t.Fatalf("list: %d %v", w.Code, m)
	}
	if w, m := h.do("GET", "/admin/resources/"+id, "", adminToken); w.Code != 200 || m["name"] != "Orders" {
		t.Fatalf("get: %d %v", w.Code, m)
	}
	// PUT replaces the whole description.
	w, m = h.do("PUT", "/admin/resources/"+id, `{"resource":"https://api.example.com/v2","scope":"orders:read"}`, adminToken)
	if w.Code != 200 || m["resource"] != "https://api.example.com/v2" || m["name"] != nil || m["access_token_format"] != nil || m["id"] != id {
		t.Fatalf("update: %d %v", w.Code, m)
	}
	if w, m := h.do("PUT", "/admin/resources/"+id, `{"resource":"urn:example:billing"}`, adminToken); w.Code != http.StatusConflict {
		t.Fatalf("update to a taken indicator: %d %v", w.Code, m)
	}
	if w, _ := h.do("DELETE", "/admin/resources/"+id, "", adminToken); w.Code != http.StatusNoContent {
		t.Fatalf("delete: %d", w.Code)
	}
	for _, method := range []string{"GET", "DELETE"} {
		if w, m := h.do(method, "/admin/resources/"+id, "", adminToken); w.Code != 404 || w.Header().Get("Content-Type") != "application/problem+json" {
			t.Fatalf("%s after delete: %d %v", method, w.Code, m)
		}
	}
	if w, m := h.do("PUT", "/admin/resources/nope", `{"resource":"urn:x"}`, adminToken); w.Code != 404 {
		t.Fatalf("update absent: %d %v", w.Code, m)
	}
	if w, _ := h.do("GET", "/admin/resources", "", ""); w.Code != http.StatusUnauthorized {
		t.Fatalf("without the admin token: %d", w.Code)
	}
	// Every change dropped the caches of the indicators before and after it.
	want := []string{"https://api.example.com/", "urn:example:billing", "https://api.example.com/", "https://api.example.com/v2", "https://api.example.com/v2"}
	if !slices.Equal(*changed, want) {
		t.Fatalf("changed = %q, want %q", *changed, want)
	}
	types := rec.types()
	wantTypes := []string{secevent.AdminResourceCreated, secevent.AdminResourceCreated, secevent.AdminResourceUpdated, secevent.AdminResourceDeleted}
	if !slices.Equal(types, wantTypes) {
		t.Fatalf("events = %q, want %q", types, wantTypes)
	}
	if rec.events[0].Detail["by"] != "admin-token" || rec.events[0].Detail["id"] == "" {
		t.Fatalf("event = %+v", rec.events[0])
	}
}

func TestResourceErrors(t *testing.T) {
	h, _, _ := resourceHarness(t)
	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantField  string
	}{
		{"no resource", `{"name":"x"}`, 400, "resource"},
		{"relative (RFC 8707 §2)", `{"resource":"/api"}`, 400, "resource"},
		{"fragment (RFC 8707 §2)", `{"resource":"https://api.example/#a"}`, 400, "resource"},
		{"space", `{"resource":"https://api.example/ a"}`, 400, "resource"},
		{"bad scope", `{"resource":"urn:a","scope":"a\"b"}`, 400, "scope"},
		{"bad format", `{"resource":"urn:a","access_token_format":"paseto"}`, 400, "access_token_format"},
		{"negative ttl", `{"resource":"urn:a","access_token_ttl":-1}`, 400, "access_token_ttl"},
		{"ttl over the server max", `{"resource":"urn:a","access_token_ttl":86401}`, 400, "access_token_ttl"},
		{"empty introspecting client", `{"resource":"urn:a","introspecting_clients":[""]}`, 400, "introspecting_clients"},
		{"name with a newline", `{"resource":"urn:a","name":"a\nb"}`, 400, "name"},
		{"wrong type", `{"resource":"urn:a","access_token_ttl":"60"}`, 400, "access_token_ttl"},
		{"not JSON", `{"resource":`, 400, ""},
		{"too long", `{"resource":"https://a/` + strings.Repeat("x", 2048) + `"}`, 400, "resource"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, m := h.do("POST", "/admin/resources", tc.body, adminToken)
			if w.Code != tc.wantStatus || m["status"] != float64(tc.wantStatus) || (tc.wantField != "" && m["field"] != tc.wantField) {
				t.Fatalf("got %d %v", w.Code, m)
			}
		})
	}
	if w, m := h.do("GET", "/admin/resources", "", adminToken); len(m["resources"].([]any)) != 0 {
		t.Fatalf("something was stored: %d %v", w.Code, m)
	}
}
