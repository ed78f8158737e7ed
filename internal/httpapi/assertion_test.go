package httpapi_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/authd/authd/internal/clientauth/assertion"
	"github.com/authd/authd/internal/httpapi"
	"github.com/authd/authd/internal/keys"
	"github.com/authd/authd/internal/oauth"
)

// memReplay is a single-process replay store for tests.
type memReplay struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

func (m *memReplay) Use(_ context.Context, key string, until time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen == nil {
		m.seen = map[string]time.Time{}
	}
	if _, ok := m.seen[key]; ok {
		return false, nil
	}
	m.seen[key] = until
	return true, nil
}

func withAssertions() func(*harnessConfig) {
	return func(c *harnessConfig) {
		sealer, err := keys.NewSealer(make([]byte, 32))
		if err != nil {
			panic(err)
		}
		c.secrets = &lateSecrets{}
		c.openSecret = func(id string, sealed []byte) ([]byte, error) { return sealer.Open(sealed, []byte(id)) }
		v, err := assertion.New(assertion.Config{Issuer: issuer, TokenEndpoint: issuer + httpapi.PathToken, Replay: &memReplay{},
			Secrets: c.secrets, Now: c.now})
		if err != nil {
			panic(err)
		}
		c.deps.Assertions = v
	}
}

// sealFor seals secret for client id as the harness's openSecret opens it.
func sealFor(t *testing.T, id, secret string) []byte {
	sealer, err := keys.NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	return sealer.Seal([]byte(secret), []byte(id))
}

type assertionSigner struct {
	t      *testing.T
	signer jose.Signer
	now    func() time.Time
	n      int
}

func (a *assertionSigner) sign(clientID, aud string, mod func(*jwt.Claims)) string {
	a.t.Helper()
	a.n++
	now := a.now()
	cl := jwt.Claims{Issuer: clientID, Subject: clientID, Audience: jwt.Audience{aud}, ID: "jti-" + string(rune('a'+a.n%26)) + time.Now().String(),
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Minute))}
	if mod != nil {
		mod(&cl)
	}
	tok, err := jwt.Signed(a.signer).Claims(cl).Serialize()
	if err != nil {
		a.t.Fatal(err)
	}
	return tok
}

// TestPrivateKeyJWT: a client registered with keys authenticates with a
// signed assertion (RFC 7523 §2.2) at the token endpoint; a replayed,
// misaddressed or foreign-signed one is invalid_client, and mixing methods
// is invalid_request (RFC 6749 §2.3).
func TestPrivateKeyJWT(t *testing.T) {
	h := newHarness(t, withAssertions())
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	h.addClient("svc", "", func(c *oauth.Client) {
		c.TokenEndpointAuthMethod = oauth.AuthMethodPrivateKeyJWT
		c.SecretHash = nil
		c.Metadata.JWKS = jwks
	})
	mk := func(k *ecdsa.PrivateKey, kid string) *assertionSigner {
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k}, (&jose.SignerOptions{}).WithHeader("kid", kid).WithType("JWT"))
		if err != nil {
			t.Fatal(err)
		}
		return &assertionSigner{t: t, signer: s, now: h.clock.Now}
	}
	good, foreign := mk(key, "k1"), mk(other, "k1")
	grant := func(a string, extra url.Values, opts ...reqOpt) (int, map[string]any) {
		f := url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
			"client_assertion": {a}}
		for k, v := range extra {
			f[k] = v
		}
		w := h.postForm(httpapi.PathToken, f, opts...)
		return w.Code, decodeJSON(t, w.Body.Bytes())
	}

	a := good.sign("svc", issuer, nil)
	if code, body := grant(a, nil); code != http.StatusOK || body["access_token"] == nil {
		t.Fatalf("private_key_jwt: %d %v", code, body)
	}
	if code, body := grant(a, nil); code != http.StatusUnauthorized || body["error"] != "invalid_client" {
		t.Fatalf("replayed assertion: %d %v", code, body)
	}
	if code, _ := grant(good.sign("svc", issuer+httpapi.PathToken, nil), nil); code != http.StatusOK {
		t.Fatalf("the token endpoint URL as audience: %d", code)
	}
	for _, tc := range []struct {
		name   string
		a      string
		extra  url.Values
		opts   []reqOpt
		status int
		code   string
	}{
		{"another server's audience", good.sign("svc", "https://other.example", nil), nil, nil, 401, "invalid_client"},
		{"signed by another key", foreign.sign("svc", issuer, nil), nil, nil, 401, "invalid_client"},
		{"expired", good.sign("svc", issuer, func(c *jwt.Claims) {
			c.IssuedAt = jwt.NewNumericDate(h.clock.Now().Add(-time.Hour))
			c.Expiry = jwt.NewNumericDate(h.clock.Now().Add(-50 * time.Minute))
		}), nil, nil, 401, "invalid_client"},
		{"unknown client", good.sign("nobody", issuer, nil), nil, nil, 401, "invalid_client"},
		{"client_id that is not the assertion's", good.sign("svc", issuer, nil), url.Values{"client_id": {"other"}}, nil, 401, "invalid_client"},
		{"with Basic too", good.sign("svc", issuer, nil), nil, []reqOpt{withBasic("svc", "x")}, 400, "invalid_request"},
		{"with client_secret too", good.sign("svc", issuer, nil), url.Values{"client_secret": {"x"}}, nil, 400, "invalid_request"},
	} {
		if code, body := grant(tc.a, tc.extra, tc.opts...); code != tc.status || body["error"] != tc.code {
			t.Errorf("%s: %d %v, want %d %s", tc.name, code, body, tc.status, tc.code)
		}
	}
	// An assertion is not a secret: a Basic-authenticated client cannot send one, and a
	// private_key_jwt client has no secret to send.
	if w := h.postForm(httpapi.PathToken, url.Values{"grant_type": {"client_credentials"}}, withBasic("svc", "")); w.Code != http.StatusUnauthorized {
		t.Fatalf("private_key_jwt client with Basic: %d", w.Code)
	}
	// A client registered for a secret cannot switch to an assertion.
	h.addClient("basic", "s3cret", nil)
	if code, _ := grant(good.sign("basic", issuer, nil), nil); code != http.StatusUnauthorized {
		t.Fatalf("assertion for a client_secret_basic client: %d", code)
	}
	// Introspection and revocation take the same authentication.
	tok := h.token("basic", "s3cret", nil)
	w := h.postForm(httpapi.PathIntrospect, url.Values{"token": {tok}, "client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion": {good.sign("svc", issuer, nil)}})
	if m := decodeJSON(t, w.Body.Bytes()); w.Code != http.StatusOK || m["active"] != true {
		t.Fatalf("introspection with private_key_jwt: %d %v", w.Code, m)
	}
}

// TestClientSecretJWT: an assertion MACed with the client's secret (RFC 7523
// §2.2, OpenID Connect Core §9 client_secret_jwt), which authd keeps sealed
// for such clients only; one MACed with another key is refused.
func TestClientSecretJWT(t *testing.T) {
	h := newHarness(t, withAssertions())
	const secret = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG" // 43 characters, as authd generates
	h.addClient("hs", secret, func(c *oauth.Client) {
		c.TokenEndpointAuthMethod = oauth.AuthMethodSecretJWT
		c.SecretSealed = sealFor(t, "hs", secret)
	})
	h.addClient("moved", secret, func(c *oauth.Client) {
		c.TokenEndpointAuthMethod = oauth.AuthMethodSecretJWT
		c.SecretSealed = sealFor(t, "hs", secret) // sealed for another client
	})
	mac := func(key string) *assertionSigner {
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte(key)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return &assertionSigner{t: t, signer: s, now: h.clock.Now}
	}
	grant := func(a string) int {
		return h.postForm(httpapi.PathToken, url.Values{"grant_type": {"client_credentials"},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {a}}).Code
	}
	if code := grant(mac(secret).sign("hs", issuer, nil)); code != http.StatusOK {
		t.Fatalf("client_secret_jwt: %d", code)
	}
	if code := grant(mac(secret+"x").sign("hs", issuer, nil)); code != http.StatusUnauthorized {
		t.Fatalf("MACed with another key: %d", code)
	}
	if code := grant(mac(secret).sign("moved", issuer, nil)); code != http.StatusUnauthorized {
		t.Fatalf("a sealed secret copied from another client: %d, want 401", code)
	}
	// The secret as such is not accepted from a client_secret_jwt client.
	if w := h.postForm(httpapi.PathToken, url.Values{"grant_type": {"client_credentials"}}, withBasic("hs", secret)); w.Code != http.StatusUnauthorized {
		t.Fatalf("client_secret_jwt client with Basic: %d", w.Code)
	}
}
