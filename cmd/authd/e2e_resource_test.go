package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// TestCLIResources: authd resource create|list|get|update|delete against a
// running serve.
func TestCLIResources(t *testing.T) {
	s := startServer(t, nil)
	orders := s.mustJSON(t, "resource", "create", "https://api.example.com/orders", "--name", "Orders",
		"--scope", "orders:read orders:write", "--format", "opaque", "--ttl", "300", "--introspecting-client", "rs1",
		"--introspecting-client", "rs2")
	id, _ := orders["id"].(string)
	if id == "" || orders["resource"] != "https://api.example.com/orders" || orders["access_token_ttl"] != 300.0 ||
		len(orders["introspecting_clients"].([]any)) != 2 {
		t.Fatalf("create: %v", orders)
	}
	s.mustJSON(t, "resource", "create", "urn:example:billing", "--scope", "bill")

	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"same URI again", []string{"resource", "create", "https://api.example.com/orders"}, "already exists"},
		{"a fragment", []string{"resource", "create", "https://api.example.com/#x"}, "fragment"},
		{"a bad format", []string{"resource", "create", "urn:x", "--format", "paseto"}, "access_token_format"},
		{"no URI", []string{"resource", "create"}, "usage"},
		{"unknown ref", []string{"resource", "get", "urn:nothing"}, `no resource with id or URI "urn:nothing"`},
		{"update without flags", []string{"resource", "update", id}, "nothing to change"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { s.wantErr(t, tc.wantErr, tc.args...) })
	}

	for _, ref := range []string{id, "https://api.example.com/orders"} {
		if m := s.mustJSON(t, "resource", "get", ref); m["id"] != id || m["name"] != "Orders" {
			t.Fatalf("get %s: %v", ref, m)
		}
	}
	table := s.must(t, "resource", "list")
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 3 || !regexp.MustCompile(`^ID\s+RESOURCE\s+NAME\s+FORMAT\s+TTL\s+SCOPE\s+INTROSPECTING_CLIENTS$`).MatchString(lines[0]) ||
		!strings.Contains(lines[1], "https://api.example.com/orders") || !strings.Contains(lines[1], "rs1,rs2") {
		t.Fatalf("list:\n%s", table)
	}
	// update keeps what is not given; an empty value restores the default.
	up := s.mustJSON(t, "resource", "update", "https://api.example.com/orders", "--format=", "--introspecting-client", "rs3")
	if up["access_token_format"] != nil || up["name"] != "Orders" || up["scope"] != "orders:read orders:write" ||
		len(up["introspecting_clients"].([]any)) != 1 || up["access_token_ttl"] != 300.0 {
		t.Fatalf("update: %v", up)
	}
	if out := s.must(t, "resource", "delete", id); strings.TrimSpace(out) != "deleted "+id {
		t.Fatalf("delete: %q", out)
	}
	s.wantErr(t, "no resource", "resource", "get", id)
}

// TestResourceEndToEnd: a resource created with the CLI; a client gets a
// token for it (client_credentials with resource), whose JWT aud is the
// resource; the resource's introspecting client sees it active, and a
// resource server of another API does not.
func TestResourceEndToEnd(t *testing.T) {
	s := startServer(t, nil)
	var svc, rs, other map[string]any
	for _, c := range []struct {
		into *map[string]any
		args []string
	}{
		{&svc, []string{"--name", "svc", "--scope", "orders:read orders:write admin"}},
		{&rs, []string{"--name", "orders-rs"}},
		{&other, []string{"--name", "billing-rs"}},
	} {
		if err := json.Unmarshal(s.cli(t, "client", "create", c.args...), c.into); err != nil {
			t.Fatal(err)
		}
	}
	const api = "https://api.example.com/orders"
	s.mustJSON(t, "resource", "create", api, "--scope", "orders:read orders:write", "--ttl", "120",
		"--introspecting-client", rs["client_id"].(string))
	s.mustJSON(t, "resource", "create", "urn:example:billing", "--introspecting-client", other["client_id"].(string))

	id, secret := svc["client_id"].(string), svc["client_secret"].(string)
	code, tok := postForm(t, s.public+"/oauth2/token", id, secret, url.Values{"grant_type": {"client_credentials"}, "resource": {api}})
	if code != 200 || tok["scope"] != "orders:read orders:write" || tok["expires_in"] != 120.0 {
		t.Fatalf("token: %d %v", code, tok)
	}
	access := tok["access_token"].(string)
	claims := verifiedClaims(t, s.public, access)
	if claims["aud"] != api || claims["scope"] != "orders:read orders:write" || claims["client_id"] != id {
		t.Fatalf("claims = %v", claims)
	}
	for _, tc := range []struct {
		name   string
		caller map[string]any
		active bool
	}{
		{"the resource's introspecting client", rs, true},
		{"another resource's", other, false},
		{"the client itself, linked to no resource", svc, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, info := postForm(t, s.public+"/oauth2/introspect", tc.caller["client_id"].(string), tc.caller["client_secret"].(string),
				url.Values{"token": {access}})
			if code != 200 || info["active"] != tc.active || (tc.active && info["aud"] != api) {
				t.Fatalf("introspect: %d %v", code, info)
			}
		})
	}
	code, body := postForm(t, s.public+"/oauth2/token", id, secret, url.Values{"grant_type": {"client_credentials"}, "resource": {"https://unknown.example/"}})
	if code != http.StatusBadRequest || body["error"] != "invalid_target" {
		t.Fatalf("unknown resource: %d %v", code, body)
	}
}

// verifiedClaims verifies tok against the server's JWKS, as a resource
// server does, and returns its claims.
func verifiedClaims(t *testing.T, base, tok string) map[string]any {
	t.Helper()
	resp, err := http.Get(base + "/oauth2/jwks")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.ES256, jose.EdDSA, jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	ks := set.Key(jws.Signatures[0].Header.KeyID)
	if len(ks) != 1 {
		t.Fatal("kid not in JWKS")
	}
	payload, err := jws.Verify(ks[0])
	if err != nil {
		t.Fatalf("signature: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}
