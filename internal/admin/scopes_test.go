package admin_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/authd/authd/internal/admin"
	"github.com/authd/authd/internal/client"
)

func TestScopeDescriptions(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	if w, m := h.do("GET", "/admin/scopes", "", adminToken); w.Code != 200 || len(m["scopes"].([]any)) != 0 {
		t.Fatalf("empty list: %d %v", w.Code, m)
	}
	for _, tc := range []struct{ name, body string }{
		{"write:all", `{"description":"Change ✓ everything"}`},
		{"read", `{"description":"Read your files"}`},
		{"read", `{"description":"Read your documents"}`}, // replaces
		{"openid", `{"description":"Confirmer qui vous êtes"}`},
		{"api%2Fv1", `{"description":"Use the API"}`}, // a scope with a slash, escaped in the path
	} {
		if w, m := h.do("PUT", "/admin/scopes/"+tc.name, tc.body, adminToken); w.Code != http.StatusNoContent {
			t.Fatalf("PUT %s: %d %v", tc.name, w.Code, m)
		}
	}
	got, err := h.db.ScopeDescriptions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got["read"] != "Read your documents" || got["write:all"] != "Change ✓ everything" || got["api/v1"] != "Use the API" || len(got) != 4 {
		t.Fatalf("stored %v", got)
	}
	w, m := h.do("GET", "/admin/scopes", "", adminToken)
	var names []string
	for _, s := range m["scopes"].([]any) {
		names = append(names, s.(map[string]any)["name"].(string)+"="+s.(map[string]any)["description"].(string))
	}
	if w.Code != 200 || strings.Join(names, "|") != "api/v1=Use the API|openid=Confirmer qui vous êtes|read=Read your documents|write:all=Change ✓ everything" {
		t.Fatalf("list: %d %v", w.Code, names)
	}
	if w, _ := h.do("DELETE", "/admin/scopes/read", "", adminToken); w.Code != http.StatusNoContent {
		t.Fatalf("delete: %d", w.Code)
	}
	if w, m := h.do("DELETE", "/admin/scopes/read", "", adminToken); w.Code != http.StatusNotFound || w.Header().Get("Content-Type") != "application/problem+json" || m["status"] != 404.0 {
		t.Fatalf("delete again: %d %v", w.Code, m)
	}
	if got, _ := h.db.ScopeDescriptions(ctx); len(got) != 3 {
		t.Fatalf("after delete: %v", got)
	}
	if w, _ := h.do("GET", "/admin/scopes", "", ""); w.Code != http.StatusUnauthorized {
		t.Fatalf("without the admin token: %d", w.Code)
	}
}

func TestScopeDescriptionErrors(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name       string
		method     string
		scope      string // already escaped for the path
		body       string
		wantStatus int
		wantField  string
	}{
		{"quote in name", "PUT", `a%22b`, `{"description":"x"}`, 400, "name"},
		{"backslash in name", "PUT", `a%5Cb`, `{"description":"x"}`, 400, "name"},
		{"space in name", "PUT", `a%20b`, `{"description":"x"}`, 400, "name"},
		{"non-ASCII name", "PUT", `%C3%A9`, `{"description":"x"}`, 400, "name"},
		{"name too long", "PUT", strings.Repeat("s", 257), `{"description":"x"}`, 400, "name"},
		{"delete, bad name", "DELETE", `a%22b`, ``, 400, "name"},
		{"no description", "PUT", "read", `{}`, 400, "description"},
		{"empty description", "PUT", "read", `{"description":""}`, 400, "description"},
		{"blank description", "PUT", "read", `{"description":"   "}`, 400, "description"},
		{"description too long", "PUT", "read", `{"description":"` + strings.Repeat("é", 501) + `"}`, 400, "description"},
		{"newline in description", "PUT", "read", `{"description":"a\nb"}`, 400, "description"},
		{"NUL in description", "PUT", "read", `{"description":"a\u0000b"}`, 400, "description"},
		{"C1 control in description", "PUT", "read", `{"description":"a\u0085b"}`, 400, "description"},
		{"description not a string", "PUT", "read", `{"description":5}`, 400, "description"},
		{"not JSON", "PUT", "read", `description=x`, 400, ""},
		{"two objects", "PUT", "read", `{"description":"a"}{}`, 400, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, m := h.do(tc.method, "/admin/scopes/"+tc.scope, tc.body, adminToken)
			if w.Code != tc.wantStatus || w.Header().Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%d %s %v", w.Code, w.Header().Get("Content-Type"), m)
			}
			if f, _ := m["field"].(string); f != tc.wantField {
				t.Errorf("field = %q, want %q (%v)", f, tc.wantField, m)
			}
		})
	}
	if got, _ := h.db.ScopeDescriptions(context.Background()); len(got) != 0 {
		t.Fatalf("a refused request stored %v", got)
	}
	// 500 characters is the limit, not past it.
	if w, m := h.do("PUT", "/admin/scopes/read", `{"description":"`+strings.Repeat("é", 500)+`"}`, adminToken); w.Code != http.StatusNoContent {
		t.Fatalf("500 characters: %d %v", w.Code, m)
	}
}

// TestScopesNotConfigured: without a scope store the endpoints do not exist.
func TestScopesNotConfigured(t *testing.T) {
	h := newHarness(t)
	srv := admin.New(admin.Deps{Clients: client.New(h.db, client.Options{}), Keys: h.keys}, slog.New(slog.DiscardHandler), admin.Options{Token: adminToken})
	h.srv = srv
	if w, _ := h.do("GET", "/admin/scopes", "", adminToken); w.Code != http.StatusNotFound {
		t.Fatalf("GET /admin/scopes: %d", w.Code)
	}
}
