package outbound

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDiscover(t *testing.T) {
	// The configuration documents are written with the server's own URL,
	// ISSUER, substituted when served.
	tests := []struct {
		name     string
		issuer   string // "" for the server's URL; a leading "/" is a path on it
		path     string // where the configuration is served
		doc      string
		wantErr  error
		wantJWKS string
	}{
		{"exact issuer", "", "/.well-known/openid-configuration",
			`{"issuer":"ISSUER","jwks_uri":"ISSUER/jwks"}`, nil, "ISSUER/jwks"},
		{"issuer with a path", "/tenant", "/tenant/.well-known/openid-configuration",
			`{"issuer":"ISSUER/tenant","jwks_uri":"ISSUER/tenant/jwks"}`, nil, "ISSUER/tenant/jwks"},
		{"terminating slash removed before appending (§4)", "/tenant/", "/tenant/.well-known/openid-configuration",
			`{"issuer":"ISSUER/tenant/","jwks_uri":"ISSUER/jwks"}`, nil, "ISSUER/jwks"},
		{"another issuer (§4.3)", "", "/.well-known/openid-configuration",
			`{"issuer":"https://accounts.example.com","jwks_uri":"https://accounts.example.com/jwks"}`, ErrIssuerMismatch, ""},
		{"issuer with a slash added", "", "/.well-known/openid-configuration",
			`{"issuer":"ISSUER/","jwks_uri":"ISSUER/jwks"}`, ErrIssuerMismatch, ""},
		{"issuer differing in case", "/Tenant", "/Tenant/.well-known/openid-configuration",
			`{"issuer":"ISSUER/tenant","jwks_uri":"ISSUER/jwks"}`, ErrIssuerMismatch, ""},
		{"no issuer", "", "/.well-known/openid-configuration",
			`{"jwks_uri":"ISSUER/jwks"}`, ErrIssuerMismatch, ""},
		{"no jwks_uri", "", "/.well-known/openid-configuration",
			`{"issuer":"ISSUER"}`, ErrBadResponse, ""},
		{"relative jwks_uri", "", "/.well-known/openid-configuration",
			`{"issuer":"ISSUER","jwks_uri":"/jwks"}`, ErrBadResponse, ""},
		{"not JSON", "", "/.well-known/openid-configuration", `<html>`, ErrBadResponse, ""},
		{"not found", "", "/elsewhere", `{}`, ErrBadResponse, ""},
		{"issuer with a query", "/?tenant=1", "/.well-known/openid-configuration", `{}`, ErrRefused, ""},
		{"issuer with a fragment", "/#x", "/.well-known/openid-configuration", `{}`, ErrRefused, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var srvURL string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != tc.path {
					http.NotFound(w, r)
					return
				}
				jsonHandler(strings.ReplaceAll(tc.doc, "ISSUER", srvURL))(w, r)
			}))
			defer srv.Close()
			srvURL = srv.URL
			f := newFetcher(t, Options{AllowLoopback: true})
			md, err := f.Discover(t.Context(), srv.URL+tc.issuer)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Discover = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == ErrIssuerMismatch && !errors.Is(err, ErrBadResponse) {
				t.Fatalf("ErrIssuerMismatch is not an ErrBadResponse: %v", err)
			}
			if err == nil && md.JWKSURI != strings.ReplaceAll(tc.wantJWKS, "ISSUER", srv.URL) {
				t.Fatalf("jwks_uri = %s, want %s", md.JWKSURI, tc.wantJWKS)
			}
		})
	}
}

// TestDiscoverRefused: an issuer is fetched under the same rules as any
// URL.
func TestDiscoverRefused(t *testing.T) {
	f := newFetcher(t, Options{})
	for _, issuer := range []string{"http://op.example.com", "https://169.254.169.254", "https://10.0.0.1/tenant", "not a url"} {
		if _, err := f.Discover(t.Context(), issuer); !errors.Is(err, ErrRefused) {
			t.Errorf("Discover(%s) = %v, want ErrRefused", issuer, err)
		}
	}
}
