package httpapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/httpapi"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/store"
	"github.com/authd/authd/internal/token"
)

// sealedHarness serves sealed opaque tokens (AUTHD_OPAQUE_TOKENS=sealed)
// under key, with an introspecting client svc and an opaque client opq.
func sealedHarness(t testing.TB, key []byte) *harness {
	h := newHarness(t, func(c *harnessConfig) { c.sealKey = key })
	h.addClient("svc", "svc-secret", nil)
	h.addClient("opq", "opq-secret", func(c *oauth.Client) {
		c.AccessTokenFormat = oauth.FormatOpaque
		c.AccessTokenTTL = time.Minute
	})
	h.addClient("other", "other-secret", nil)
	return h
}

// A sealed token is its own record: nothing is written when it is issued, the
// client and the resource server see an opaque string that says nothing, and
// introspection answers for it as for a stored one.
func TestSealedTokenIsSelfContained(t *testing.T) {
	h := sealedHarness(t, bytes.Repeat([]byte{1}, 32))
	tok := h.token("opq", "opq-secret", url.Values{"scope": {"read"}})
	if strings.Contains(tok, ".") || len(tok) <= 48 {
		t.Fatalf("token %q: want an opaque string longer than a stored token's 48 characters", tok)
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		t.Fatalf("not base64url: %v", err)
	}
	for _, leak := range []string{"opq", "read", `"e":`} {
		if bytes.Contains(raw, []byte(leak)) || strings.Contains(tok, leak) {
			t.Errorf("the token shows %q in the clear", leak)
		}
	}
	if _, err := h.db.AccessToken(context.Background(), token.Hash(tok)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a sealed token was stored: %v", err)
	}
	now := h.clock.Now().Unix()
	got := h.introspect("svc", "svc-secret", tok)
	want := map[string]any{"active": true, "client_id": "opq", "sub": "opq", "scope": "read", "token_type": "Bearer",
		"iss": issuer, "aud": issuer, "iat": float64(now), "nbf": float64(now), "exp": float64(now + 60)}
	if len(got) != len(want) {
		t.Errorf("introspection = %v, want exactly %v (no jti, as for a stored token)", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("introspection %s = %v, want %v", k, got[k], v)
		}
	}
}

// Anything but a token this deployment sealed is inactive, never an error:
// a changed character, a cut, another deployment's key, past exp.
func TestSealedTokenInactive(t *testing.T) {
	h := sealedHarness(t, bytes.Repeat([]byte{1}, 32))
	tok := h.token("opq", "opq-secret", nil)
	other := sealedHarness(t, bytes.Repeat([]byte{2}, 32)).token("opq", "opq-secret", nil)
	flip := func(i int) string {
		b := []byte(tok)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	cases := map[string]string{
		"version changed":        flip(0),
		"nonce changed":          flip(10),
		"ciphertext changed":     flip(len(tok) / 2),
		"tag changed":            flip(len(tok) - 2),
		"cut":                    tok[:len(tok)-4],
		"longer":                 tok + "AAAA",
		"another deployment key": other,
		"not base64url":          strings.Repeat("*", len(tok)),
	}
	for name, bad := range cases {
		if got := h.introspect("svc", "svc-secret", bad); got["active"] != false || len(got) != 1 {
			t.Errorf("%s: introspection = %v, want only active false", name, got)
		}
	}
	if got := h.introspect("svc", "svc-secret", tok); got["active"] != true {
		t.Fatalf("the untouched token: %v", got)
	}
	h.clock.Advance(time.Minute)
	if got := h.introspect("svc", "svc-secret", tok); got["active"] != false {
		t.Errorf("at exp: %v, want inactive", got)
	}
}

// What ends a stored token before its exp ends a sealed one: RFC 7009
// revocation by its client (only), and its client's deletion; batch
// introspection agrees with single.
func TestSealedTokenEnds(t *testing.T) {
	h := sealedHarness(t, bytes.Repeat([]byte{1}, 32))
	revoked := h.token("opq", "opq-secret", nil)
	kept := h.token("opq", "opq-secret", nil)
	revoke := func(id, secret, tok string) int {
		return h.postForm(httpapi.PathRevoke, url.Values{"token": {tok}}, withBasic(id, secret)).Code
	}
	if code := revoke("other", "other-secret", revoked); code != http.StatusBadRequest {
		t.Fatalf("revocation by another client: %d, want 400 unauthorized_client (RFC 7009 §2.1)", code)
	}
	if got := h.introspect("svc", "svc-secret", revoked); got["active"] != true {
		t.Fatalf("another client's revocation ended the token: %v", got)
	}
	if code := revoke("opq", "opq-secret", revoked); code != http.StatusOK {
		t.Fatalf("revocation: %d", code)
	}
	if got := h.introspect("svc", "svc-secret", revoked); got["active"] != false {
		t.Errorf("revoked token: %v, want inactive", got)
	}
	w := h.do(http.MethodPost, httpapi.PathIntrospectBatch, "application/json",
		`{"tokens":["`+revoked+`","`+kept+`","junk"]}`, withBasic("svc", "svc-secret"))
	var batch struct{ Results []map[string]any }
	if err := json.Unmarshal(w.Body.Bytes(), &batch); err != nil || w.Code != http.StatusOK || len(batch.Results) != 3 {
		t.Fatalf("batch: %d %s", w.Code, w.Body)
	}
	if batch.Results[0]["active"] != false || batch.Results[1]["active"] != true || batch.Results[2]["active"] != false {
		t.Errorf("batch = %v, want inactive, active, inactive", batch.Results)
	}
	if err := h.db.DeleteClient(context.Background(), "opq"); err != nil {
		t.Fatal(err)
	}
	h.svc.InvalidateClient(context.Background(), "opq")
	if got := h.introspect("svc", "svc-secret", kept); got["active"] != false {
		t.Errorf("token of a deleted client: %v, want inactive", got)
	}
}

// FuzzSealedToken feeds arbitrary strings, many of them near a real sealed
// token, to introspection on a server that seals: it must never fail or
// panic, and only the token it sealed is active.
func FuzzSealedToken(f *testing.F) {
	// A key of this process's own: the fuzzer's workers are processes, and
	// the token one seals must not be another's "good".
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	h := sealedHarness(f, key)
	good := h.token("opq", "opq-secret", nil)
	raw, _ := base64.RawURLEncoding.DecodeString(good)
	for _, s := range []string{good, good[:len(good)-1], good + "A", strings.Repeat("A", len(good)), "AQ" + good[2:],
		base64.RawURLEncoding.EncodeToString(raw[:len(raw)-16]), base64.RawURLEncoding.EncodeToString(append([]byte{2}, raw[1:]...))} {
		f.Add(s)
	}
	fuzzIntrospect(f, h, good)
}
