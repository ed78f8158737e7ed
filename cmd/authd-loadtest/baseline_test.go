package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

const testAdminToken = "test-admin-token-test-admin-token"

// newTestBaseline serves a baseline on loopback with a JWT and an opaque
// client and a token of each, made through its own endpoints.
func newTestBaseline(t *testing.T) (*baseline, *side, *http.Client) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	b, err := newBaseline("http://"+srv.Listener.Addr().String(), testAdminToken)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = b.handler()
	srv.Start()
	t.Cleanup(srv.Close)
	hc := newHTTPClient(5*time.Second, 4, "")
	t.Cleanup(hc.CloseIdleConnections)
	return b, newSide(t, hc, "baseline", srv.URL, srv.URL, testAdminToken), hc
}

// TestBaselineRefusals checks the baseline alone against what authd answers
// each exchange (TestBaselineAnswersLikeAuthd compares the two in full).
func TestBaselineRefusals(t *testing.T) {
	_, s, hc := newTestBaseline(t)
	for _, ex := range exchanges {
		t.Run(ex.name, func(t *testing.T) {
			a := s.send(t, hc, ex)
			ex.check(t, s, a)
			if ex.wantError == "invalid_client" && ex.auth != nil && !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Basic ") {
				t.Error("invalid_client to Basic credentials without WWW-Authenticate (RFC 6749 §5.2)")
			}
		})
	}
}

func TestBaselineIssuesVerifiableJWT(t *testing.T) {
	_, s, hc := newTestBaseline(t)
	// Verify it the way a resource server would: against the published JWKS.
	a := s.send(t, hc, exchange{method: "GET", path: pathJWKS})
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(a.body, &set); err != nil || len(set.Keys) != 1 || a.header.Get("Content-Type") != "application/jwk-set+json" {
		t.Fatalf("jwks: %s %s (%v)", a.header.Get("Content-Type"), a.body, err)
	}
	obj, err := jose.ParseSignedCompact(s.jwtTok, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	if h := obj.Signatures[0].Header; h.KeyID != set.Keys[0].KeyID || h.ExtraHeaders[jose.HeaderType] != "at+jwt" {
		t.Errorf("header kid=%q typ=%v; want kid %q, typ at+jwt", h.KeyID, h.ExtraHeaders[jose.HeaderType], set.Keys[0].KeyID)
	}
	payload, err := obj.Verify(set.Keys[0].Key)
	if err != nil {
		t.Fatalf("signature: %v", err)
	}
	var c claims
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	if c.ClientID != s.jwt.ClientID || c.Sub != c.ClientID || c.Aud != s.base || c.Iss != s.base || c.Exp-c.Iat != 3600 || c.Jti == "" || c.Scope != "read write" {
		t.Errorf("claims %s", payload)
	}
}

func TestBaselineIntrospection(t *testing.T) {
	b, s, hc := newTestBaseline(t)
	if len(s.opaqueTok) != 48 || strings.Contains(s.opaqueTok, ".") {
		t.Errorf("opaque token %q: want 48 base64url characters, as authd's stored ones", s.opaqueTok)
	}
	for _, tc := range []struct {
		name       string
		token      string
		wantClient string
	}{
		{name: "jwt", token: s.jwtTok, wantClient: s.jwt.ClientID},
		{name: "opaque", token: s.opaqueTok, wantClient: s.opaque.ClientID},
		{name: "unknown opaque with a good tag", token: b.taggedUnknown()},
		{name: "wrong tag", token: badTag(s)},
		{name: "tampered jwt", token: tamperedJWT(s)},
		{name: "garbage jwt", token: "a.b.c"},
		{name: "too long", token: strings.Repeat("x", baselineMaxToken+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := s.send(t, hc, exchange{method: "POST", path: pathIntrospect, ctype: formType, auth: asJWT, body: introspectBody(fixed(tc.token))})
			var got introspection
			if err := json.Unmarshal(a.body, &got); err != nil || a.status != 200 {
				t.Fatalf("%d %s", a.status, a.body)
			}
			if got.Active != (tc.wantClient != "") || got.ClientID != tc.wantClient {
				t.Fatalf("answer %s; want client_id %q", a.body, tc.wantClient)
			}
			if !got.Active && string(a.body) != `{"active":false}` {
				t.Errorf("inactive answer %s; want only {\"active\":false} (RFC 7662 §2.2)", a.body)
			}
		})
	}
	b.now = func() time.Time { return time.Now().Add(time.Hour) }
	for _, tok := range []string{s.jwtTok, s.opaqueTok} {
		if b.introspect(tok).Active {
			t.Errorf("token active an hour after it was issued")
		}
	}
}

// taggedUnknown is a token with a good tag that was never issued.
func (b *baseline) taggedUnknown() string {
	raw := []byte(randomString(32))[:32]
	t := b.tag(raw)
	return base64.RawURLEncoding.EncodeToString(append(raw, t[:]...))
}

func TestBaselineBatch(t *testing.T) {
	_, s, hc := newTestBaseline(t)
	toks := make([]func(*side) string, batchSize)
	for i := range toks {
		toks[i] = opaqueTok
		if i%10 == 0 {
			toks[i] = jwtTok
		}
	}
	a := s.send(t, hc, exchange{method: "POST", path: pathIntrospectBatch, ctype: jsonType, auth: asJWT, body: batchOf(toks...)})
	if _, ok := batchAllActive(&vegeta.Result{Code: uint16(a.status), Body: a.body}); !ok {
		t.Fatalf("%d %s: want %d active answers", a.status, a.body, batchSize)
	}
	toks[batchSize-1] = fixed("unknown")
	a = s.send(t, hc, exchange{method: "POST", path: pathIntrospectBatch, ctype: jsonType, auth: asJWT, body: batchOf(toks...)})
	if _, ok := batchAllActive(&vegeta.Result{Code: uint16(a.status), Body: a.body}); ok || !strings.HasSuffix(string(a.body), `{"active":false}]}`) {
		t.Errorf("%d %s: want the last answer inactive", a.status, a.body)
	}
}

func TestBaselineAdmin(t *testing.T) {
	_, s, hc := newTestBaseline(t)
	ctx := context.Background()
	var ae *apiError
	bad := &adminAPI{base: s.base, token: "wrong", client: hc}
	if _, err := createClient(ctx, bad, "x", "jwt", "read write", nil); !errors.As(err, &ae) || ae.Status != 401 {
		t.Fatalf("wrong admin token: %v; want 401", err)
	}
	good := &adminAPI{base: s.base, token: testAdminToken, client: hc}
	if _, err := createClient(ctx, good, "x", "jwt", "read write", []string{"password"}); !errors.As(err, &ae) || !ae.unsupported() {
		t.Fatalf("password client: %v; want a not-supported refusal", err)
	}
	if err := good.post(ctx, "/admin/users", map[string]string{"username": "u"}, nil); !errors.As(err, &ae) || !ae.unsupported() {
		t.Fatalf("users: %v; want 404 (not supported)", err)
	}
}

// BenchmarkBaseline is the baseline's work per request in process, without
// the network: what its figures in bench/run.sh are made of.
func BenchmarkBaseline(b *testing.B) {
	bl, err := newBaseline("http://127.0.0.1:1", testAdminToken)
	if err != nil {
		b.Fatal(err)
	}
	h := bl.handler()
	serve := func(path, ctype, auth, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		r.Header.Set("Content-Type", ctype)
		r.Header.Set("Authorization", auth)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	auth, tok := map[string]string{}, map[string]string{}
	for _, f := range []string{roleJWT, roleOpaque} {
		var c Credentials
		w := serve("/admin/clients", jsonType, "Bearer "+testAdminToken, `{"scope":"read write","access_token_format":"`+f+`"}`)
		if err := json.Unmarshal(w.Body.Bytes(), &c); err != nil {
			b.Fatal(w.Body.String())
		}
		auth[f] = basicAuth(c)
		var tr struct {
			AccessToken string `json:"access_token"`
		}
		_ = json.Unmarshal(serve(pathToken, formType, auth[f], cc).Body.Bytes(), &tr)
		tok[f] = tr.AccessToken
	}
	for _, f := range []string{roleJWT, roleOpaque} {
		b.Run("token-"+f, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if w := serve(pathToken, formType, auth[f], cc); w.Code != 200 {
					b.Fatal(w.Body.String())
				}
			}
		})
		b.Run("introspect-"+f, func(b *testing.B) {
			b.ReportAllocs()
			body := "token=" + tok[f]
			for b.Loop() {
				if w := serve(pathIntrospect, formType, auth[roleJWT], body); !strings.Contains(w.Body.String(), `"active":true`) {
					b.Fatal(w.Body.String())
				}
			}
		})
	}
}
