package keys_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/internal/keys"
	"github.com/authd/authd/internal/testenv/clocktest"
)

// authd serializes its JWSs itself (keys/jws.go); what it makes must verify
// with an independent JOSE implementation against the published JWKS, carry
// the header it claims, and have RFC 7518's signature encoding.
func TestSignedTokensVerifyWithGoJOSE(t *testing.T) {
	for _, tc := range []struct {
		alg    string
		sigLen int // octets; 0: not fixed by the algorithm
	}{
		{keys.ES256, 64}, // RFC 7518 §3.4: R || S, 32 octets each
		{keys.EdDSA, 64}, // RFC 8032 §5.1.6
		{keys.RS256, 256},
	} {
		t.Run(tc.alg, func(t *testing.T) {
			m := newManager(t, openDB(t), clocktest.New(time.Now()), 1, tc.alg)
			if err := m.Load(context.Background()); err != nil {
				t.Fatal(err)
			}
			var set jose.JSONWebKeySet
			if err := json.Unmarshal(m.JWKS(), &set); err != nil {
				t.Fatal(err)
			}
			payload := []byte(`{"sub":"s","n":"` + strings.Repeat("x", 37) + `"}`)
			for i := range 20 { // ECDSA's R and S are sometimes short: pad them every time
				tok, err := m.Sign(tc.alg, "at+jwt", payload)
				if err != nil {
					t.Fatal(err)
				}
				jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(tc.alg)})
				if err != nil {
					t.Fatalf("round %d: go-jose cannot parse %q: %v", i, tok, err)
				}
				h := jws.Signatures[0].Protected
				if h.Algorithm != tc.alg || h.KeyID != m.CurrentKeyID(tc.alg) || h.ExtraHeaders["typ"] != "at+jwt" {
					t.Fatalf("header = alg %q kid %q typ %v", h.Algorithm, h.KeyID, h.ExtraHeaders["typ"])
				}
				keysForKid := set.Key(h.KeyID)
				if len(keysForKid) != 1 {
					t.Fatalf("JWKS has %d keys for kid %q", len(keysForKid), h.KeyID)
				}
				got, err := jws.Verify(keysForKid[0].Key)
				if err != nil || string(got) != string(payload) {
					t.Fatalf("go-jose Verify = %q, %v", got, err)
				}
				sig, err := base64.RawURLEncoding.DecodeString(tok[strings.LastIndexByte(tok, '.')+1:])
				if err != nil || len(sig) != tc.sigLen {
					t.Fatalf("signature is %d octets (%v), want %d", len(sig), err, tc.sigLen)
				}
				if back, err := m.Verify(context.Background(), tok, "at+jwt"); err != nil || string(back) != string(payload) {
					t.Fatalf("VerifyFor = %q, %v", back, err)
				}
			}
		})
	}
}

// BenchmarkSign is an ES256 access token signed by authd's serializer and,
// for comparison, by go-jose's general signer with the same key.
func BenchmarkSign(b *testing.B) {
	m := newManager(b, openDB(b), clocktest.New(time.Now()), 1, keys.ES256)
	if err := m.Load(context.Background()); err != nil {
		b.Fatal(err)
	}
	payload := []byte(`{"iss":"https://issuer.example","sub":"svc","aud":"https://issuer.example","exp":1800000000,"iat":1799996400,"nbf":1799996400,"jti":"0123456789abcdef0123","client_id":"svc","scope":"read write"}`)
	b.Run("authd", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := m.Sign(keys.ES256, "at+jwt", payload); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("go-jose", func(b *testing.B) {
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: priv, KeyID: "k", Algorithm: keys.ES256}},
			(&jose.SignerOptions{}).WithType("at+jwt"))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			jws, err := s.Sign(payload)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := jws.CompactSerialize(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
