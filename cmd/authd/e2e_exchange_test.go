package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

const (
	grantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	typeAccessToken    = "urn:ietf:params:oauth:token-type:access_token"
	typeJWT            = "urn:ietf:params:oauth:token-type:jwt"
)

// TestTokenExchangeEndToEnd: an identity provider served over loopback TLS
// is trusted with the CLI (keys found through its discovery document); its
// JWT for alice is exchanged by service a, whose token service b exchanges,
// whose token service c exchanges (RFC 8693 delegation, three hops). The
// final token names alice, carries the nested act chain c ← b ← a, and
// introspects with it.
func TestTokenExchangeEndToEnd(t *testing.T) {
	idpKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	var idpURL string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": idpURL, "jwks_uri": idpURL + "/keys"})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &idpKey.PublicKey, KeyID: "idp-1", Algorithm: "ES256", Use: "sig"}}})
	})
	idp := httptest.NewTLSServer(mux)
	defer idp.Close()
	idpURL = idp.URL
	caFile := filepath.Join(t.TempDir(), "idp-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: idp.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, map[string]string{"AUTHD_OUTBOUND_ALLOW_LOOPBACK": "true", "AUTHD_OUTBOUND_CA_FILE": caFile})

	// The CLI: create (discovery), refusals, list, get.
	ti := s.mustJSON(t, "trusted-issuer", "create", idpURL, "--subject-mapping", "username")
	if ti["id"] == "" || ti["issuer"] != idpURL || ti["jwks_uri"] != nil || ti["subject_mapping"] != "username" {
		t.Fatalf("trusted-issuer create: %v", ti)
	}
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"same issuer again", []string{"trusted-issuer", "create", idpURL, "--subject-mapping", "none"}, "already trusted"},
		{"http issuer", []string{"trusted-issuer", "create", "http://idp.example", "--subject-mapping", "none"}, "https"},
		{"no mapping", []string{"trusted-issuer", "create", "https://idp2.example", "--jwks-uri", "https://idp2.example/k"}, "subject_mapping"},
		{"no discovery", []string{"trusted-issuer", "create", idpURL + "/nothing", "--subject-mapping", "none"}, "discovery"},
		{"unknown ref", []string{"trusted-issuer", "get", "https://nobody.example"}, "no trusted issuer"},
	} {
		t.Run(tc.name, func(t *testing.T) { s.wantErr(t, tc.wantErr, tc.args...) })
	}
	if got := s.mustJSON(t, "trusted-issuer", "get", idpURL); got["id"] != ti["id"] {
		t.Fatalf("get by issuer: %v", got)
	}
	if table := s.must(t, "trusted-issuer", "list"); !strings.Contains(table, idpURL) || !strings.Contains(table, "(discovery)") {
		t.Fatalf("list:\n%s", table)
	}

	if _, _, err := s.authd("correct horse battery staple\n", "user", "create", "--username", "alice", "--email", "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	alice := s.mustJSON(t, "user", "get", "alice")
	services := map[string][2]string{}
	for _, name := range []string{"svc-a", "svc-b", "svc-c"} {
		c := s.mustJSON(t, "client", "create", "--name", name, "--scope", "read write",
			"--grant-types", "client_credentials,"+grantTokenExchange)
		services[name] = [2]string{c["client_id"].(string), c["client_secret"].(string)}
	}
	issuer := discoveredIssuer(t, s.public)

	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: idpKey}, (&jose.SignerOptions{}).WithHeader("kid", "idp-1").WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	b, _ := json.Marshal(map[string]any{"iss": idpURL, "sub": "alice", "aud": issuer, "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(), "scope": "read write"})
	jws, err := signer.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := jws.CompactSerialize()
	subjectType := typeJWT

	// Three hops: each service presents the previous token with its own
	// client_credentials token as the actor token.
	for i, name := range []string{"svc-a", "svc-b", "svc-c"} {
		id, secret := services[name][0], services[name][1]
		code, own := postForm(t, s.public+"/oauth2/token", id, secret, url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}})
		if code != 200 {
			t.Fatalf("%s client_credentials: %d %v", name, code, own)
		}
		code, out := postForm(t, s.public+"/oauth2/token", id, secret, url.Values{"grant_type": {grantTokenExchange},
			"subject_token": {subject}, "subject_token_type": {subjectType},
			"actor_token": {own["access_token"].(string)}, "actor_token_type": {typeAccessToken}, "scope": {"read"}})
		if code != 200 || out["issued_token_type"] != typeAccessToken || out["token_type"] != "Bearer" {
			t.Fatalf("hop %d (%s): %d %v", i+1, name, code, out)
		}
		subject, subjectType = out["access_token"].(string), typeAccessToken
	}

	chain := func(act any) []string {
		var subs []string
		for a, _ := act.(map[string]any); a != nil; a, _ = a["act"].(map[string]any) {
			subs = append(subs, a["sub"].(string))
		}
		return subs
	}
	want := []string{services["svc-c"][0], services["svc-b"][0], services["svc-a"][0]}
	claims := verifiedClaims(t, s.public, subject)
	if claims["sub"] != alice["id"] || claims["scope"] != "read" || strings.Join(chain(claims["act"]), " ") != strings.Join(want, " ") {
		t.Fatalf("final token claims = %v", claims)
	}
	code, info := postForm(t, s.public+"/oauth2/introspect", services["svc-c"][0], services["svc-c"][1], url.Values{"token": {subject}})
	if code != 200 || info["active"] != true || info["sub"] != alice["id"] || strings.Join(chain(info["act"]), " ") != strings.Join(want, " ") {
		t.Fatalf("introspection: %d %v", code, info)
	}

	// Once the issuer is no longer trusted, its JWTs are refused.
	if out := s.must(t, "trusted-issuer", "delete", idpURL); !strings.HasPrefix(out, "deleted ") {
		t.Fatalf("delete: %q", out)
	}
	id, secret := services["svc-a"][0], services["svc-a"][1]
	_, own := postForm(t, s.public+"/oauth2/token", id, secret, url.Values{"grant_type": {"client_credentials"}})
	jws, _ = signer.Sign(b)
	again, _ := jws.CompactSerialize()
	code, out := postForm(t, s.public+"/oauth2/token", id, secret, url.Values{"grant_type": {grantTokenExchange},
		"subject_token": {again}, "subject_token_type": {typeJWT},
		"actor_token": {own["access_token"].(string)}, "actor_token_type": {typeAccessToken}})
	if code != 400 || out["error"] != "invalid_request" {
		t.Fatalf("after delete: %d %v", code, out)
	}
}

func discoveredIssuer(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/.well-known/oauth-authorization-server")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return m["issuer"].(string)
}
