package httpapi_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/internal/httpapi"
	"github.com/authd/authd/internal/oauth"
)

// BenchmarkTokenPossession is token issuance (client_credentials, JWT access
// token) with a DPoP proof and with private_key_jwt, next to a bare baseline
// doing the same cryptography with go-jose alone: verify one ES256 JWS (the
// proof or the assertion), sign one ES256 JWT. Proofs and assertions are
// made outside the timer, for both. Compare within one run, pinned to one
// core:
//
//	taskset -c 1 go test ./internal/httpapi -run '^$' -bench TokenPossession -cpu 1 -count 5
func BenchmarkTokenPossession(b *testing.B) {
	clientKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	dpopKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serverKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	assertionSigner, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: clientKey}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
	proofSigner, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: dpopKey}, (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	n := 0
	sign := func(s jose.Signer, claims map[string]any) string {
		n++
		claims["jti"] = fmt.Sprintf("jti-%d", n)
		body, _ := json.Marshal(claims)
		jws, err := s.Sign(body)
		if err != nil {
			b.Fatal(err)
		}
		out, _ := jws.CompactSerialize()
		return out
	}
	proof := func(now time.Time) string {
		return sign(proofSigner, map[string]any{"htm": "POST", "htu": issuer + httpapi.PathToken, "iat": now.Unix()})
	}
	assertion := func(now time.Time) string {
		return sign(assertionSigner, map[string]any{"iss": "svc", "sub": "svc", "aud": issuer, "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()})
	}
	// prepared runs mk for a batch outside the timer, then use timed.
	prepared := func(b *testing.B, mk func() string, use func(string)) {
		const batch = 512
		pool := make([]string, 0, batch)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if len(pool) == 0 {
				b.StopTimer()
				for range batch {
					pool = append(pool, mk())
				}
				b.StartTimer()
			}
			x := pool[len(pool)-1]
			pool = pool[:len(pool)-1]
			use(x)
		}
	}

	serverSigner, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: serverKey}, (&jose.SignerOptions{}).WithType("at+jwt"))
	baseline := func(b *testing.B, mk func() string, pub *ecdsa.PublicKey) {
		prepared(b, mk, func(in string) {
			jws, err := jose.ParseSignedCompact(in, []jose.SignatureAlgorithm{jose.ES256})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := jws.Verify(pub); err != nil {
				b.Fatal(err)
			}
			claims, _ := json.Marshal(map[string]any{"iss": issuer, "sub": "svc", "aud": issuer, "client_id": "svc", "jti": "x",
				"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(), "scope": "read"})
			if _, err := serverSigner.Sign(claims); err != nil {
				b.Fatal(err)
			}
		})
	}
	b.Run("baseline/dpop", func(b *testing.B) { baseline(b, func() string { return proof(time.Now()) }, &dpopKey.PublicKey) })
	b.Run("baseline/private_key_jwt", func(b *testing.B) { baseline(b, func() string { return assertion(time.Now()) }, &clientKey.PublicKey) })

	post := func(b *testing.B, h *harness, form url.Values, opts ...reqOpt) {
		r := httptest.NewRequest(http.MethodPost, httpapi.PathToken, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, o := range opts {
			o(r)
		}
		w := httptest.NewRecorder()
		h.srv.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
	b.Run("authd/dpop", func(b *testing.B) {
		h := newHarness(b, withDPoP(false))
		h.addClient("svc", "svc-secret", nil)
		form := url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}
		prepared(b, func() string { return proof(h.clock.Now()) }, func(p string) {
			post(b, h, form, withBasic("svc", "svc-secret"), withHeader("DPoP", p))
		})
	})
	b.Run("authd/private_key_jwt", func(b *testing.B) {
		h := newHarness(b, withAssertions())
		jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &clientKey.PublicKey, KeyID: "k1", Algorithm: "ES256"}}})
		h.addClient("svc", "", func(c *oauth.Client) {
			c.TokenEndpointAuthMethod, c.SecretHash, c.Metadata.JWKS = oauth.AuthMethodPrivateKeyJWT, nil, jwks
		})
		prepared(b, func() string { return assertion(h.clock.Now()) }, func(a string) {
			post(b, h, url.Values{"grant_type": {"client_credentials"}, "scope": {"read"},
				"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {a}})
		})
	})
}
