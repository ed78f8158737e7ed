package admin_test

import (
	"log/slog"
	"net/http"
	"testing"

	"github.com/authd/authd/internal/admin"
	"github.com/authd/authd/internal/client"
	"github.com/authd/authd/internal/issuer"
	"github.com/authd/authd/internal/secevent"
)

func TestTrustedIssuers(t *testing.T) {
	h := newHarness(t)
	rec := &recorder{}
	svc := issuer.New(h.db, issuer.Options{Audience: "https://authd.example", Events: rec})
	h.srv = admin.New(admin.Deps{Clients: client.New(h.db, client.Options{}), Keys: h.keys, TrustedIssuers: svc},
		slog.New(slog.DiscardHandler), admin.Options{Token: adminToken})

	w, m := h.do("POST", "/admin/trusted-issuers", `{"issuer":"https://idp.example","jwks_uri":"https://idp.example/keys","subject_mapping":"username"}`, adminToken)
	if w.Code != http.StatusCreated || m["id"] == "" || m["issuer"] != "https://idp.example" || m["audience"] != "https://authd.example" ||
		m["subject_mapping"] != "username" || m["jwks_uri"] != "https://idp.example/keys" {
		t.Fatalf("create: %d %v", w.Code, m)
	}
	id := m["id"].(string)
	if w.Header().Get("Location") != "/admin/trusted-issuers/"+id {
		t.Fatalf("Location = %q", w.Header().Get("Location"))
	}
	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantField  string
	}{
		{"same issuer again", `{"issuer":"https://idp.example","jwks_uri":"https://idp.example/k2","subject_mapping":"none"}`, http.StatusConflict, "issuer"},
		{"http issuer", `{"issuer":"http://idp.example","subject_mapping":"none"}`, http.StatusBadRequest, "issuer"},
		{"bad mapping", `{"issuer":"https://other.example","jwks_uri":"https://other.example/k","subject_mapping":"phone"}`, http.StatusBadRequest, "subject_mapping"},
		{"not JSON", `{"issuer":`, http.StatusBadRequest, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, m := h.do("POST", "/admin/trusted-issuers", tc.body, adminToken)
			if w.Code != tc.wantStatus || (tc.wantField != "" && m["field"] != tc.wantField) {
				t.Fatalf("%d %v, want %d field %q", w.Code, m, tc.wantStatus, tc.wantField)
			}
		})
	}
	if w, _ := h.do("GET", "/admin/trusted-issuers", "", "wrong-token"); w.Code != http.StatusUnauthorized {
		t.Fatalf("without the admin token: %d", w.Code)
	}
	w, m = h.do("GET", "/admin/trusted-issuers", "", adminToken)
	if list, _ := m["trusted_issuers"].([]any); w.Code != 200 || len(list) != 1 {
		t.Fatalf("list: %d %v", w.Code, m)
	}
	if w, m := h.do("GET", "/admin/trusted-issuers/"+id, "", adminToken); w.Code != 200 || m["issuer"] != "https://idp.example" {
		t.Fatalf("get: %d %v", w.Code, m)
	}
	if w, _ := h.do("DELETE", "/admin/trusted-issuers/"+id, "", adminToken); w.Code != http.StatusNoContent {
		t.Fatalf("delete: %d", w.Code)
	}
	for _, method := range []string{"GET", "DELETE"} {
		if w, m := h.do(method, "/admin/trusted-issuers/"+id, "", adminToken); w.Code != 404 {
			t.Fatalf("%s after delete: %d %v", method, w.Code, m)
		}
	}
	var types []string
	for _, e := range rec.events {
		types = append(types, e.Type)
	}
	if len(types) != 2 || types[0] != secevent.AdminTrustedIssuerCreated || types[1] != secevent.AdminTrustedIssuerDeleted {
		t.Fatalf("audit: %v", types)
	}
}
