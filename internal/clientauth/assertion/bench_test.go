package assertion_test

import (
	"context"
	"testing"

	"github.com/authd/authd/internal/clientauth/assertion"
)

// BenchmarkVerify measures Parse + Verify of a client's own assertion, with the
// client's inline jwks decoded on each call as the wiring would hand it over,
// and a replay store that costs nothing (a real one is a Redis round trip).
func BenchmarkVerify(b *testing.B) {
	cases := []struct {
		name, client, key, alg string
		secret                 []byte
	}{
		{"private_key_jwt/ES256", "app-es256", "ES256", "", nil},
		{"private_key_jwt/EdDSA", "app-eddsa", "EdDSA", "", nil},
		{"private_key_jwt/Ed25519", "app-ed25519", "Ed25519", "", nil},
		{"private_key_jwt/RS256", "app-rs256", "RS256", "", nil},
		{"client_secret_jwt/HS256", "app-hs", "", "HS256", secret64},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			e := newEnv(b, func(c *assertion.Config) { c.Replay = alwaysFirst{} })
			var k *testKey
			if tc.key != "" {
				k = e.k[tc.key]
			}
			in := bearer(signJWT(b, k, tc.alg, nil, ownClaims(tc.client, e.clk.Now()), tc.secret))
			c := e.clients[tc.client]
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				a, err := e.v.Parse(in)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := e.v.Verify(ctx, a, c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("federated/kubernetes-RS256", func(b *testing.B) {
		e := newEnv(b, nil)
		in := bearer(signJWT(b, e.k["k8s"], "", nil, k8sClaims(e.clk.Now()), nil))
		in.ClientID = "workload"
		c := e.clients["workload"]
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			a, err := e.v.Parse(in)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := e.v.Verify(ctx, a, c); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkParse is the cost an unauthenticated caller can impose before any
// key is looked up.
func BenchmarkParse(b *testing.B) {
	e := newEnv(b, nil)
	in := bearer(signJWT(b, e.k["ES256"], "", nil, ownClaims("app-es256", e.clk.Now()), nil))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.v.Parse(in); err != nil {
			b.Fatal(err)
		}
	}
}
