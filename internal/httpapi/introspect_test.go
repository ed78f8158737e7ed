package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/httpapi"
	"github.com/authd/authd/internal/keys"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/token"
)

func TestIntrospectErrors(t *testing.T) {
	h := newHarness(t)
	h.addClient("rs", "rs-secret", nil)
	h.addClient("pub", "", func(c *oauth.Client) {
		c.TokenEndpointAuthMethod = oauth.AuthMethodNone
		c.GrantTypes = []string{oauth.GrantAuthorizationCode}
	})
	tests := []struct {
		name       string
		body       string
		opts       []reqOpt
		wantStatus int
		wantErr    string
	}{
		{"no auth", "token=x", nil, 401, "invalid_client"},
		{"wrong secret", "token=x", []reqOpt{withBasic("rs", "bad")}, 401, "invalid_client"},
		{"public client", "token=x&client_id=pub", nil, 401, "invalid_client"},
		{"missing token", "", []reqOpt{withBasic("rs", "rs-secret")}, 400, "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := h.do(http.MethodPost, httpapi.PathIntrospect, "application/x-www-form-urlencoded", tc.body, tc.opts...)
			if w.Code != tc.wantStatus || decodeJSON(t, w.Body.Bytes())["error"] != tc.wantErr {
				t.Fatalf("got %d %s, want %d %s", w.Code, w.Body, tc.wantStatus, tc.wantErr)
			}
		})
	}
}

func TestIntrospectAndRevoke(t *testing.T) {
	for _, format := range []string{oauth.FormatJWT, oauth.FormatOpaque} {
		t.Run(format, func(t *testing.T) {
			h := newHarness(t)
			h.addClient("svc", "svc-secret", func(c *oauth.Client) {
				c.AccessTokenFormat = format
				c.AccessTokenTTL = 5 * time.Minute
			})
			h.addClient("other", "other-secret", nil)
			tok := h.token("svc", "svc-secret", url.Values{"scope": {"read"}})

			info := h.introspect("svc", "svc-secret", tok)
			now := float64(h.clock.Now().Unix())
			if info["active"] != true || info["client_id"] != "svc" || info["sub"] != "svc" || info["scope"] != "read" ||
				info["iss"] != issuer || info["aud"] != issuer || info["token_type"] != "Bearer" ||
				info["exp"] != now+300 || info["iat"] != now {
				t.Fatalf("introspection = %v", info)
			}
			if format == oauth.FormatJWT && info["jti"] == nil {
				t.Error("JWT introspection lacks jti")
			}
			// Any confidential client may introspect.
			if h.introspect("other", "other-secret", tok)["active"] != true {
				t.Fatal("other resource server sees the token inactive")
			}
			// Revocation by another client is refused and changes nothing.
			w := h.postForm(httpapi.PathRevoke, url.Values{"token": {tok}}, withBasic("other", "other-secret"))
			if w.Code != 400 || decodeJSON(t, w.Body.Bytes())["error"] != "unauthorized_client" {
				t.Fatalf("revoke by other: %d %s", w.Code, w.Body)
			}
			if h.introspect("svc", "svc-secret", tok)["active"] != true {
				t.Fatal("token inactive after a refused revocation")
			}
			w = h.postForm(httpapi.PathRevoke, url.Values{"token": {tok}, "token_type_hint": {"access_token"}}, withBasic("svc", "svc-secret"))
			if w.Code != 200 || w.Body.Len() != 0 {
				t.Fatalf("revoke: %d %q", w.Code, w.Body)
			}
			got := h.introspect("svc", "svc-secret", tok)
			if len(got) != 1 || got["active"] != false {
				t.Fatalf("after revocation = %v, want only active:false", got)
			}
			// Revoking again, or a token that never existed, is fine (RFC 7009 §2.2).
			for _, again := range []string{tok, "never-issued", "a.b.c"} {
				if w := h.postForm(httpapi.PathRevoke, url.Values{"token": {again}}, withBasic("svc", "svc-secret")); w.Code != 200 {
					t.Fatalf("revoke %q: %d %s", again, w.Code, w.Body)
				}
			}
		})
	}
}

func TestIntrospectInactive(t *testing.T) {
	h := newHarness(t)
	h.addClient("svc", "svc-secret", func(c *oauth.Client) { c.AccessTokenTTL = time.Minute })
	h.addClient("opq", "opq-secret", func(c *oauth.Client) {
		c.AccessTokenTTL = time.Minute
		c.AccessTokenFormat = oauth.FormatOpaque
	})
	jwt := h.token("svc", "svc-secret", nil)
	opaque := h.token("opq", "opq-secret", nil)
	// A well-formed token, tag and all, that the store does not have: the
	// answer must come from the lookup, not from the tag check.
	unknown := h.token("opq", "opq-secret", nil)
	if err := h.db.DeleteAccessToken(context.Background(), token.Hash(unknown)); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(jwt, ".")
	tampered := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))
	// A token signed by us but with a different typ must not pass as an access token.
	wrongTyp, err := h.keys.Sign("", "JWT", []byte(`{"iss":"`+issuer+`","exp":9999999999,"jti":"x","client_id":"svc"}`))
	if err != nil {
		t.Fatal(err)
	}
	// Signed by us, typ right, but living longer than anything authd issues.
	now := h.clock.Now().Unix()
	sign := func(claims string) string {
		t.Helper()
		tok, err := h.keys.Sign("", "at+jwt", []byte(claims))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	farFuture := sign(fmt.Sprintf(`{"iss":%q,"exp":13569465600,"iat":%d,"jti":"x","client_id":"svc","sub":"svc"}`, issuer, now))
	tooLong := sign(fmt.Sprintf(`{"iss":%q,"exp":%d,"iat":%d,"jti":"y","client_id":"svc","sub":"svc"}`, issuer, now+3600, now-25*3600))
	// Signed by our id_token key, with every claim of a good access token.
	idKeySigned, err := h.keys.Sign(keys.PurposeIDToken, "at+jwt",
		fmt.Appendf(nil, `{"iss":%q,"exp":%d,"iat":%d,"jti":"z","client_id":"svc","sub":"svc"}`, issuer, now+60, now))
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"signed by the id_token key": idKeySigned,
		"exp in 2400":                farFuture,
		"lifetime over max":          tooLong,
		"garbage":                    "not-a-token",
		"tampered":                   tampered,
		"alg none":                   "eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0." + parts[1] + ".",
		"wrong typ":                  wrongTyp,
		"too long":                   strings.Repeat("a", 5000),
		"three dots":                 "a.b.c.d",
		"unknown opaque":             unknown,
		"opaque, short":              "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"opaque, bad tag":            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"empty-looking jwt":          "..",
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			if got := h.introspect("svc", "svc-secret", tok); len(got) != 1 || got["active"] != false {
				t.Fatalf("= %v", got)
			}
		})
	}
	t.Run("expired", func(t *testing.T) {
		if h.introspect("svc", "svc-secret", jwt)["active"] != true || h.introspect("svc", "svc-secret", opaque)["active"] != true {
			t.Fatal("fresh tokens inactive")
		}
		h.clock.Advance(61 * time.Second)
		for _, tok := range []string{jwt, opaque} {
			if got := h.introspect("svc", "svc-secret", tok); got["active"] != false {
				t.Fatalf("expired token = %v", got)
			}
		}
	})
}

func TestIntrospectBatch(t *testing.T) {
	h := newHarness(t)
	h.addClient("svc", "svc-secret", nil)
	h.addClient("opq", "opq-secret", func(c *oauth.Client) { c.AccessTokenFormat = oauth.FormatOpaque })
	jwt1 := h.token("svc", "svc-secret", url.Values{"scope": {"read"}})
	jwt2 := h.token("svc", "svc-secret", url.Values{"scope": {"write"}})
	opaque := h.token("opq", "opq-secret", nil)
	if w := h.postForm(httpapi.PathRevoke, url.Values{"token": {jwt2}}, withBasic("svc", "svc-secret")); w.Code != 200 {
		t.Fatal(w.Body)
	}

	batch := func(tokens []string, opts ...reqOpt) (int, map[string]any) {
		b, _ := json.Marshal(map[string]any{"tokens": tokens})
		w := h.do(http.MethodPost, httpapi.PathIntrospectBatch, "application/json", string(b), opts...)
		return w.Code, decodeJSON(t, w.Body.Bytes())
	}
	code, body := batch([]string{jwt1, "junk", jwt2, opaque, ""}, withBasic("svc", "svc-secret"))
	if code != 200 {
		t.Fatalf("%d %v", code, body)
	}
	res := body["results"].([]any)
	want := []bool{true, false, false, true, false}
	if len(res) != len(want) {
		t.Fatalf("results = %v", res)
	}
	for i, w := range want {
		if got := res[i].(map[string]any)["active"]; got != w {
			t.Errorf("result %d active = %v, want %v", i, got, w)
		}
	}
	if res[0].(map[string]any)["scope"] != "read" || res[3].(map[string]any)["client_id"] != "opq" {
		t.Errorf("results out of order: %v", res)
	}

	hundred := make([]string, 100)
	for i := range hundred {
		hundred[i] = jwt1
	}
	if code, body := batch(hundred, withBasic("svc", "svc-secret")); code != 200 || len(body["results"].([]any)) != 100 {
		t.Fatalf("100 tokens: %d", code)
	}
	tests := []struct {
		name       string
		ct, body   string
		opts       []reqOpt
		wantStatus int
		wantErr    string
	}{
		{"101 tokens", "application/json", fmt.Sprintf(`{"tokens":[%s"x"]}`, strings.Repeat(`"x",`, 100)), []reqOpt{withBasic("svc", "svc-secret")}, 400, "invalid_request"},
		{"no auth", "application/json", `{"tokens":["x"]}`, nil, 401, "invalid_client"},
		{"secret in body", "application/json", `{"tokens":["x"],"client_id":"svc","client_secret":"bad"}`, nil, 401, "invalid_client"},
		{"form body", "application/x-www-form-urlencoded", "tokens=x", []reqOpt{withBasic("svc", "svc-secret")}, 400, "invalid_request"},
		{"not json", "application/json", `{"tokens":`, []reqOpt{withBasic("svc", "svc-secret")}, 400, "invalid_request"},
		{"no tokens member", "application/json", `{}`, []reqOpt{withBasic("svc", "svc-secret")}, 400, "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := h.do(http.MethodPost, httpapi.PathIntrospectBatch, tc.ct, tc.body, tc.opts...)
			if w.Code != tc.wantStatus || decodeJSON(t, w.Body.Bytes())["error"] != tc.wantErr {
				t.Fatalf("got %d %s", w.Code, w.Body)
			}
		})
	}
}

func TestRevokeErrors(t *testing.T) {
	h := newHarness(t)
	h.addClient("svc", "svc-secret", nil)
	tests := []struct {
		name       string
		body       string
		opts       []reqOpt
		wantStatus int
		wantErr    string
	}{
		{"no auth", "token=x", nil, 401, "invalid_client"},
		{"missing token", "", []reqOpt{withBasic("svc", "svc-secret")}, 400, "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := h.do(http.MethodPost, httpapi.PathRevoke, "application/x-www-form-urlencoded", tc.body, tc.opts...)
			if w.Code != tc.wantStatus || decodeJSON(t, w.Body.Bytes())["error"] != tc.wantErr {
				t.Fatalf("got %d %s", w.Code, w.Body)
			}
		})
	}
}

// With the store down, what the cache holds keeps working (ARCHITECTURE.md,
// failure model): JWT issuance for a cached client, and introspection of
// tokens already seen.
func TestCacheServesWhileStoreDown(t *testing.T) {
	h := newHarness(t)
	h.addClient("svc", "svc-secret", nil)
	h.addClient("opq", "opq-secret", func(c *oauth.Client) { c.AccessTokenFormat = oauth.FormatOpaque })
	jwt := h.token("svc", "svc-secret", nil)
	opaque := h.token("opq", "opq-secret", nil)
	for _, tok := range []string{jwt, opaque} {
		if h.introspect("svc", "svc-secret", tok)["active"] != true {
			t.Fatal("fresh token inactive")
		}
	}
	h.db.Close()
	for _, tok := range []string{jwt, opaque} {
		if got := h.introspect("svc", "svc-secret", tok); got["active"] != true {
			t.Fatalf("cached introspection with the store down = %v", got)
		}
	}
	if tok := h.token("svc", "svc-secret", nil); tok == "" {
		t.Fatal("no JWT for a cached client with the store down")
	}
	// Guessed opaque tokens fail their tag before any lookup: an enumeration
	// flood gets answers without the store.
	last := "x"
	if strings.HasSuffix(opaque, last) {
		last = "y" // the guess must differ from the real token
	}
	for _, guess := range []string{strings.Repeat("B", 48), opaque[:47] + last} {
		if got := h.introspect("svc", "svc-secret", guess); got["active"] != false {
			t.Fatalf("guess %q = %v", guess, got)
		}
	}
	// Anything needing a durable write fails cleanly.
	w := h.postForm(httpapi.PathToken, url.Values{"grant_type": {"client_credentials"}}, withBasic("opq", "opq-secret"))
	if w.Code < 500 || decodeJSON(t, w.Body.Bytes())["error_description"] != nil {
		t.Fatalf("opaque issuance with the store down: %d %s", w.Code, w.Body)
	}
}

// Deleting a client deactivates every token issued to it, both formats.
func TestDeletedClientTokensInactive(t *testing.T) {
	h := newHarness(t)
	h.addClient("rs", "rs-secret", nil)
	h.addClient("jwtc", "s", nil)
	h.addClient("opqc", "s", func(c *oauth.Client) { c.AccessTokenFormat = oauth.FormatOpaque })
	jwt := h.token("jwtc", "s", nil)
	opq := h.token("opqc", "s", nil)
	for _, tok := range []string{jwt, opq} {
		if h.introspect("rs", "rs-secret", tok)["active"] != true {
			t.Fatal("fresh token inactive")
		}
	}
	ctx := context.Background()
	for _, id := range []string{"jwtc", "opqc"} {
		if err := h.db.DeleteClient(ctx, id); err != nil {
			t.Fatal(err)
		}
		h.svc.InvalidateClient(ctx, id)
	}
	for _, tok := range []string{jwt, opq} {
		if got := h.introspect("rs", "rs-secret", tok); got["active"] != false {
			t.Fatalf("token of a deleted client: %v", got)
		}
	}
	b, _ := json.Marshal(map[string]any{"tokens": []string{jwt, opq}})
	w := h.do(http.MethodPost, httpapi.PathIntrospectBatch, "application/json", string(b), withBasic("rs", "rs-secret"))
	if strings.Contains(w.Body.String(), `"active":true`) {
		t.Fatalf("batch: %s", w.Body)
	}
}
