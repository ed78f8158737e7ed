package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

const testAdminToken = "test-admin-token-test-admin-token"

// newTestBaseline serves a baseline on loopback and registers a JWT and an
// opaque client through its admin endpoint.
func newTestBaseline(t *testing.T) (*baseline, *httptest.Server, map[string]Credentials) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	b, err := newBaseline("http://"+srv.Listener.Addr().String(), testAdminToken)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = b.handler()
	srv.Start()
	t.Cleanup(srv.Close)
	adm := &adminAPI{base: srv.URL, token: testAdminToken, client: srv.Client()}
	clients := map[string]Credentials{}
	for _, f := range []string{roleJWT, roleOpaque} {
		c, err := createClient(context.Background(), adm, "test-"+f, f, []string{"client_credentials"})
		if err != nil {
			t.Fatalf("create %s client: %v", f, err)
		}
		clients[f] = c
	}
	return b, srv, clients
}

func do(t *testing.T, srv *httptest.Server, method, path, ctype, auth string, body []byte) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, data
}

func issue(t *testing.T, srv *httptest.Server, c Credentials) tokenResponse {
	t.Helper()
	status, _, body := do(t, srv, http.MethodPost, "/token", formType, basicAuth(c), []byte("grant_type=client_credentials"))
	if status != http.StatusOK {
		t.Fatalf("token: %d %s", status, body)
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestBaselineIssuesVerifiableJWT(t *testing.T) {
	_, srv, clients := newTestBaseline(t)
	tr := issue(t, srv, clients[roleJWT])
	if tr.TokenType != "Bearer" || tr.ExpiresIn != 3600 || tr.Scope != "read write" {
		t.Errorf("token response = %+v", tr)
	}

	// Verify it the way a resource server would: against the published JWKS.
	status, hdr, jwksBody := do(t, srv, http.MethodGet, pathJWKS, "", "", nil)
	if status != http.StatusOK || hdr.Get("Content-Type") != "application/jwk-set+json" {
		t.Fatalf("jwks: %d %s", status, hdr.Get("Content-Type"))
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(jwksBody, &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("jwks = %s (%v)", jwksBody, err)
	}
	obj, err := jose.ParseSignedCompact(tr.AccessToken, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	h := obj.Signatures[0].Header
	if h.KeyID != set.Keys[0].KeyID || h.ExtraHeaders[jose.HeaderType] != "at+jwt" {
		t.Errorf("header kid=%q typ=%v; want kid %q, typ at+jwt", h.KeyID, h.ExtraHeaders[jose.HeaderType], set.Keys[0].KeyID)
	}
	payload, err := obj.Verify(set.Keys[0].Key)
	if err != nil {
		t.Fatalf("signature: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	// RFC 9068 §2.2 requires these.
	for _, k := range []string{"iss", "sub", "aud", "exp", "iat", "jti", "client_id"} {
		if _, ok := claims[k]; !ok {
			t.Errorf("claim %s missing from %s", k, payload)
		}
	}
	if claims["client_id"] != clients[roleJWT].ClientID || claims["aud"] != "http://"+srv.Listener.Addr().String() {
		t.Errorf("claims = %s", payload)
	}
}

func TestBaselineIntrospection(t *testing.T) {
	b, srv, clients := newTestBaseline(t)
	jwt := issue(t, srv, clients[roleJWT]).AccessToken
	opaque := issue(t, srv, clients[roleOpaque]).AccessToken
	if len(opaque) != 43 || strings.Contains(opaque, ".") {
		t.Errorf("opaque token %q: want 43 base64url characters", opaque)
	}
	auth := basicAuth(clients[roleJWT])
	tamperedJWT := jwt[:len(jwt)-4] + "AAAA"
	tests := []struct {
		name       string
		token      string
		wantActive bool
		wantClient string
	}{
		{name: "jwt", token: jwt, wantActive: true, wantClient: clients[roleJWT].ClientID},
		{name: "opaque", token: opaque, wantActive: true, wantClient: clients[roleOpaque].ClientID},
		{name: "unknown opaque", token: randomString(32)},
		{name: "tampered jwt", token: tamperedJWT},
		{name: "garbage jwt", token: "a.b.c"},
		{name: "empty", token: ""},
		{name: "too long", token: strings.Repeat("x", 5000)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := do(t, srv, http.MethodPost, "/introspect", formType, auth, []byte("token="+url.QueryEscape(tc.token)))
			if status != http.StatusOK {
				t.Fatalf("%d %s", status, body)
			}
			var got introspection
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if got.Active != tc.wantActive || got.ClientID != tc.wantClient {
				t.Fatalf("answer %s; want active=%v client_id=%q", body, tc.wantActive, tc.wantClient)
			}
			if !tc.wantActive && string(body) != `{"active":false}` {
				t.Errorf("inactive answer %s; want only {\"active\":false} (RFC 7662 §2.2)", body)
			}
		})
	}

	t.Run("expired", func(t *testing.T) {
		b.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
		defer func() { b.now = time.Now }()
		for _, tok := range []string{jwt, opaque} {
			if b.introspect(tok).Active {
				t.Errorf("token active two hours after issue")
			}
		}
	})
	t.Run("revoked jwt", func(t *testing.T) {
		info := b.introspect(jwt)
		b.tmu.Lock()
		b.revoked[info.Jti] = struct{}{}
		b.tmu.Unlock()
		if b.introspect(jwt).Active {
			t.Error("revoked JWT active")
		}
	})
}

func TestBaselineBatch(t *testing.T) {
	_, srv, clients := newTestBaseline(t)
	pool := make([]string, 0, batchSize)
	for i := range batchSize {
		c := clients[roleOpaque]
		if i%10 == 0 {
			c = clients[roleJWT]
		}
		pool = append(pool, issue(t, srv, c).AccessToken)
	}
	pool[batchSize-1] = "unknown"
	auth := basicAuth(clients[roleJWT])
	body, _ := json.Marshal(map[string][]string{"tokens": pool})
	status, _, resp := do(t, srv, http.MethodPost, pathIntrospectBatch, jsonType, auth, body)
	if status != http.StatusOK {
		t.Fatalf("%d %s", status, resp)
	}
	var got baselineBatchAnswer
	if err := json.Unmarshal(resp, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Results) != batchSize {
		t.Fatalf("%d results; want %d", len(got.Results), batchSize)
	}
	for i, r := range got.Results {
		if r.Active != (i != batchSize-1) {
			t.Errorf("result %d active=%v", i, r.Active)
		}
	}
	// The scenario's classifier agrees, for all-active and for one inactive.
	if _, ok := batchAllActive(&vegeta.Result{Code: 200, Body: resp}); ok {
		t.Error("batchAllActive accepted a batch with an inactive token")
	}
}

func TestBaselineRefusals(t *testing.T) {
	_, srv, clients := newTestBaseline(t)
	good := basicAuth(clients[roleJWT])
	wrong := basicAuth(Credentials{ClientID: clients[roleJWT].ClientID, ClientSecret: "nope"})
	tooMany, _ := json.Marshal(map[string][]string{"tokens": make([]string, batchSize+1)})
	tests := []struct {
		name       string
		path       string
		ctype      string
		auth       string
		body       string
		wantStatus int
		wantError  string
	}{
		{name: "wrong secret", path: "/token", ctype: formType, auth: wrong, body: "grant_type=client_credentials", wantStatus: 401, wantError: "invalid_client"},
		{name: "unknown client", path: pathToken, ctype: formType, auth: basicAuth(Credentials{ClientID: "ghost", ClientSecret: "x"}), body: "grant_type=client_credentials", wantStatus: 401, wantError: "invalid_client"},
		{name: "no auth", path: "/token", ctype: formType, body: "grant_type=client_credentials", wantStatus: 401, wantError: "invalid_client"},
		{name: "wrong content type", path: "/token", ctype: "text/plain", auth: good, body: "grant_type=client_credentials", wantStatus: 400, wantError: "invalid_request"},
		{name: "repeated parameter", path: "/token", ctype: formType, auth: good, body: "grant_type=client_credentials&grant_type=client_credentials", wantStatus: 400, wantError: "invalid_request"},
		{name: "malformed form", path: "/token", ctype: formType, auth: good, body: "grant_type=%zz", wantStatus: 400, wantError: "invalid_request"},
		{name: "unsupported grant", path: "/token", ctype: formType, auth: good, body: "grant_type=password&username=a&password=b", wantStatus: 400, wantError: "unsupported_grant_type"},
		{name: "scope not allowed", path: "/token", ctype: formType, auth: good, body: "grant_type=client_credentials&scope=admin", wantStatus: 400, wantError: "invalid_scope"},
		{name: "oversized", path: "/token", ctype: formType, auth: good, body: strings.Repeat("a", baselineMaxBody+1), wantStatus: 413, wantError: "invalid_request"},
		{name: "introspect without token", path: "/introspect", ctype: formType, auth: good, body: "", wantStatus: 400, wantError: "invalid_request"},
		{name: "introspect wrong secret", path: "/introspect", ctype: formType, auth: wrong, body: "token=x", wantStatus: 401, wantError: "invalid_client"},
		{name: "batch too many", path: "/introspect/batch", ctype: jsonType, auth: good, body: string(tooMany), wantStatus: 400, wantError: "invalid_request"},
		{name: "batch malformed", path: "/introspect/batch", ctype: jsonType, auth: good, body: "{", wantStatus: 400, wantError: "invalid_request"},
		{name: "batch form type", path: "/introspect/batch", ctype: formType, auth: good, body: `{"tokens":[]}`, wantStatus: 400, wantError: "invalid_request"},
		{name: "unknown path", path: "/nope", ctype: formType, wantStatus: 404, wantError: "not_found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, hdr, body := do(t, srv, http.MethodPost, tc.path, tc.ctype, tc.auth, []byte(tc.body))
			var e oauthError
			_ = json.Unmarshal(body, &e)
			if status != tc.wantStatus || e.Error != tc.wantError {
				t.Fatalf("%d %s; want %d %s", status, body, tc.wantStatus, tc.wantError)
			}
			if hdr.Get("Cache-Control") != "no-store" || hdr.Get("Content-Type") != jsonType {
				t.Errorf("headers %v", hdr)
			}
			if tc.auth != "" && status == 401 && hdr.Get("WWW-Authenticate") == "" {
				t.Error("401 to Basic credentials without WWW-Authenticate")
			}
		})
	}
}

func TestBaselineAdmin(t *testing.T) {
	_, srv, _ := newTestBaseline(t)
	ctx := context.Background()
	bad := &adminAPI{base: srv.URL, token: "wrong", client: srv.Client()}
	var ae *apiError
	if _, err := createClient(ctx, bad, "x", "jwt", nil); !errors.As(err, &ae) || ae.Status != 401 {
		t.Fatalf("wrong admin token: %v; want 401", err)
	}
	good := &adminAPI{base: srv.URL, token: testAdminToken, client: srv.Client()}
	_, err := createClient(ctx, good, "x", "jwt", []string{"password"})
	if !errors.As(err, &ae) || !ae.unsupported() {
		t.Fatalf("password client: %v; want a not-supported refusal", err)
	}
	if err := good.post(ctx, "/admin/users", map[string]string{"username": "u"}, nil); !errors.As(err, &ae) || !ae.unsupported() {
		t.Fatalf("users: %v; want 404 (not supported)", err)
	}
}
