package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/internal/httpapi"
	"github.com/authd/authd/internal/keys"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/testenv/dbtest"
	"github.com/authd/authd/internal/token"
)

func TestTokenErrors(t *testing.T) {
	h := newHarness(t)
	h.addClient("svc", "svc-secret", nil)
	h.addClient("poster", "poster-secret", func(c *oauth.Client) { c.TokenEndpointAuthMethod = oauth.AuthMethodPost })
	h.addClient("nocc", "nocc-secret", func(c *oauth.Client) { c.GrantTypes = []string{oauth.GrantAuthorizationCode} })
	h.addClient("pub", "", func(c *oauth.Client) {
		c.TokenEndpointAuthMethod = oauth.AuthMethodNone
		c.GrantTypes = []string{oauth.GrantClientCredentials}
	})

	cc := url.Values{"grant_type": {"client_credentials"}}
	tests := []struct {
		name        string
		contentType string
		body        string
		opts        []reqOpt
		wantStatus  int
		wantErr     string
		// wantWWWAuth: every 401 carries a challenge (RFC 9110 §15.5.2).
		wantWWWAuth bool
		golden      string
	}{
		{name: "wrong content type", contentType: "application/json", body: `{"grant_type":"client_credentials"}`,
			opts: []reqOpt{withBasic("svc", "svc-secret")}, wantStatus: 400, wantErr: "invalid_request", golden: "error_content_type.json"},
		{name: "missing grant_type", body: "scope=read", opts: []reqOpt{withBasic("svc", "svc-secret")},
			wantStatus: 400, wantErr: "invalid_request", golden: "error_missing_grant_type.json"},
		{name: "unsupported grant", body: "grant_type=urn:foo", opts: []reqOpt{withBasic("svc", "svc-secret")},
			wantStatus: 400, wantErr: "unsupported_grant_type", golden: "error_unsupported_grant.json"},
		{name: "no client auth", body: cc.Encode(), wantStatus: 401, wantErr: "invalid_client", wantWWWAuth: true, golden: "error_invalid_client.json"},
		{name: "wrong secret (basic)", body: cc.Encode(), opts: []reqOpt{withBasic("svc", "nope")},
			wantStatus: 401, wantErr: "invalid_client", wantWWWAuth: true},
		{name: "unknown client (basic)", body: cc.Encode(), opts: []reqOpt{withBasic("ghost", "x")},
			wantStatus: 401, wantErr: "invalid_client", wantWWWAuth: true},
		{name: "malformed basic", body: cc.Encode(), opts: []reqOpt{withHeader("Authorization", "Basic ***")},
			wantStatus: 401, wantErr: "invalid_client", wantWWWAuth: true},
		{name: "wrong secret (post)", body: cc.Encode() + "&client_id=poster&client_secret=bad", wantStatus: 401, wantErr: "invalid_client", wantWWWAuth: true},
		{name: "registered method not used", body: cc.Encode() + "&client_id=svc&client_secret=svc-secret", wantStatus: 401, wantErr: "invalid_client", wantWWWAuth: true},
		{name: "two auth methods", body: cc.Encode() + "&client_secret=svc-secret", opts: []reqOpt{withBasic("svc", "svc-secret")},
			wantStatus: 400, wantErr: "invalid_request"},
		{name: "public client with secret", body: cc.Encode() + "&client_id=pub&client_secret=x", wantStatus: 401, wantErr: "invalid_client", wantWWWAuth: true},
		{name: "public client may not use client_credentials", body: cc.Encode() + "&client_id=pub", wantStatus: 400, wantErr: "unauthorized_client"},
		{name: "grant not allowed", body: cc.Encode(), opts: []reqOpt{withBasic("nocc", "nocc-secret")},
			wantStatus: 400, wantErr: "unauthorized_client"},
		{name: "scope too wide", body: cc.Encode() + "&scope=read+admin", opts: []reqOpt{withBasic("svc", "svc-secret")},
			wantStatus: 400, wantErr: "invalid_scope", golden: "error_invalid_scope.json"},
		{name: "scope bad char", body: cc.Encode() + "&scope=re%22ad", opts: []reqOpt{withBasic("svc", "svc-secret")},
			wantStatus: 400, wantErr: "invalid_scope"},
		{name: "repeated parameter", body: cc.Encode() + "&scope=read&scope=write", opts: []reqOpt{withBasic("svc", "svc-secret")},
			wantStatus: 400, wantErr: "invalid_request"},
		{name: "malformed body", body: "grant_type=%zz", opts: []reqOpt{withBasic("svc", "svc-secret")},
			wantStatus: 400, wantErr: "invalid_request"},
		{name: "client_id too long (never looked up)", body: cc.Encode() + "&client_id=" + strings.Repeat("a", 129) + "&client_secret=x",
			wantStatus: 401, wantErr: "invalid_client", wantWWWAuth: true},
		{name: "client_id with odd characters", body: cc.Encode() + "&client_id=a%0Ab&client_secret=x", wantStatus: 401, wantErr: "invalid_client", wantWWWAuth: true},
		{name: "scope too long", body: cc.Encode() + "&scope=" + strings.Repeat("read+", 500), opts: []reqOpt{withBasic("svc", "svc-secret")},
			wantStatus: 400, wantErr: "invalid_scope"},
		{name: "body too large", body: cc.Encode() + "&pad=" + strings.Repeat("x", 17<<10), opts: []reqOpt{withBasic("svc", "svc-secret")},
			wantStatus: 413, wantErr: "invalid_request", golden: "error_too_large.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ct := tc.contentType
			if ct == "" {
				ct = "application/x-www-form-urlencoded"
			}
			w := h.do(http.MethodPost, httpapi.PathToken, ct, tc.body, tc.opts...)
			if w.Code != tc.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", w.Code, tc.wantStatus, w.Body)
			}
			if got := decodeJSON(t, w.Body.Bytes())["error"]; got != tc.wantErr {
				t.Fatalf("error = %v, want %s", got, tc.wantErr)
			}
			if got := w.Header().Get("WWW-Authenticate") != ""; got != tc.wantWWWAuth {
				t.Errorf("WWW-Authenticate present = %v, want %v", got, tc.wantWWWAuth)
			}
			if w.Header().Get("Cache-Control") != "no-store" || w.Header().Get("Content-Type") != "application/json" {
				t.Errorf("headers = %v", w.Header())
			}
			if tc.golden != "" {
				golden(t, tc.golden, w.Body.Bytes())
			}
			// No error body may echo a secret.
			for _, s := range []string{"svc-secret", "poster-secret", "nocc-secret"} {
				if bytes.Contains(w.Body.Bytes(), []byte(s)) {
					t.Fatalf("body leaks a secret: %s", w.Body)
				}
			}
		})
	}
}

// RFC 6749 §3.1: parameters without a value are as if omitted, so an empty
// client_secret or client_id beside Basic auth is not a second method.
func TestEmptyParametersAreOmitted(t *testing.T) {
	h := newHarness(t)
	h.addClient("svc", "svc-secret", nil)
	w := h.do(http.MethodPost, httpapi.PathToken, "application/x-www-form-urlencoded",
		"grant_type=client_credentials&client_secret=&client_id=&scope=", withBasic("svc", "svc-secret"))
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
}

func TestTokenJWT(t *testing.T) {
	h := newHarness(t)
	h.addClient("svc", "svc-secret", func(c *oauth.Client) { c.AccessTokenTTL = 10 * time.Minute })

	for _, tc := range []struct {
		name      string
		opts      []reqOpt
		form      url.Values
		wantScope string
	}{
		{"basic, default scope", []reqOpt{withBasic("svc", "svc-secret")}, url.Values{}, "read write"},
		{"basic, narrowed scope", []reqOpt{withBasic("svc", "svc-secret")}, url.Values{"scope": {"write"}}, "write"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := url.Values{"grant_type": {"client_credentials"}}
			for k, v := range tc.form {
				f[k] = v
			}
			w := h.postForm(httpapi.PathToken, f, tc.opts...)
			if w.Code != 200 {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
			if w.Header().Get("Cache-Control") != "no-store" {
				t.Error("token response must not be cached")
			}
			var resp token.Response
			if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
				t.Fatal(err)
			}
			if resp.TokenType != "Bearer" || resp.ExpiresIn != 600 || resp.Scope != tc.wantScope {
				t.Fatalf("response = %+v", resp)
			}
			claims := verifyWithJWKS(t, h, resp.AccessToken)
			now := h.clock.Now().Unix()
			if claims["iss"] != issuer || claims["sub"] != "svc" || claims["client_id"] != "svc" ||
				claims["aud"] != issuer || claims["scope"] != tc.wantScope ||
				claims["iat"] != float64(now) || claims["exp"] != float64(now+600) || claims["jti"] == "" {
				t.Fatalf("claims = %v", claims)
			}
		})
	}
}

// verifyWithJWKS checks a JWT the way a resource server would: fetch the JWKS
// over the API, pick the key by kid, verify with go-jose, check typ.
func verifyWithJWKS(t *testing.T, h *harness, tok string) map[string]any {
	t.Helper()
	w := h.do(http.MethodGet, httpapi.PathJWKS, "", "")
	if w.Code != 200 {
		t.Fatalf("jwks: %d", w.Code)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(w.Body.Bytes(), &set); err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.ES256, jose.EdDSA, jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	hdr := jws.Signatures[0].Header
	if hdr.ExtraHeaders[jose.HeaderType] != "at+jwt" {
		t.Fatalf("typ = %v, want at+jwt (RFC 9068 §2.1)", hdr.ExtraHeaders[jose.HeaderType])
	}
	ks := set.Key(hdr.KeyID)
	if len(ks) != 1 {
		t.Fatalf("kid %q not in JWKS", hdr.KeyID)
	}
	if !ks[0].IsPublic() {
		t.Fatal("JWKS publishes a private key")
	}
	payload, err := jws.Verify(ks[0])
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return decodeJSON(t, payload)
}

func TestTokenOpaque(t *testing.T) {
	h := newHarness(t)
	h.addClient("svc", "svc-secret", func(c *oauth.Client) { c.AccessTokenFormat = oauth.FormatOpaque })
	tok := h.token("svc", "svc-secret", url.Values{"scope": {"read"}})
	// 256 random bits and a 32-bit tag, base64url.
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(raw) != 36 {
		t.Fatalf("opaque token %q is not 256 bits + tag of base64url", tok)
	}
	// A token with a broken tag is rejected without a lookup; the real one works.
	raw[35] ^= 1
	if h.introspect("svc", "svc-secret", base64.RawURLEncoding.EncodeToString(raw))["active"] != false {
		t.Fatal("a token with a wrong tag is active")
	}
	// Only the hash is stored: the token itself finds nothing, its hash does.
	if _, err := h.db.AccessToken(context.Background(), []byte(tok)); err == nil {
		t.Fatal("token stored in the clear")
	}
	rec, err := h.db.AccessToken(context.Background(), token.Hash(tok))
	if err != nil {
		t.Fatal(err)
	}
	if rec.ClientID != "svc" || rec.Subject != "svc" || rec.Scope != "read" {
		t.Fatalf("record = %+v", rec)
	}
}

func TestTokenKeyAlgorithms(t *testing.T) {
	for _, alg := range []string{"ES256", "EdDSA", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			sealer, err := keys.NewSealer(make([]byte, 32))
			if err != nil {
				t.Fatal(err)
			}
			km, err := keys.NewManager(dbtest.SQLite(t), sealer, keys.Options{
				Purposes: []keys.Purpose{{Name: keys.PurposeAccess, Algorithm: alg}}, Retain: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			if err := km.Load(context.Background()); err != nil {
				t.Fatal(err)
			}
			payload := []byte(`{"x":1}`)
			jws, err := km.Sign(keys.PurposeAccess, "at+jwt", payload)
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := jose.ParseSignedCompact(jws, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
			if err != nil {
				t.Fatal(err)
			}
			if parsed.Signatures[0].Header.Algorithm != alg {
				t.Fatalf("alg = %s", parsed.Signatures[0].Header.Algorithm)
			}
			got, err := km.VerifyFor(context.Background(), jws, "at+jwt", keys.PurposeAccess)
			if err != nil || string(got) != string(payload) {
				t.Fatalf("verify: %v %s", err, got)
			}
		})
	}
}
