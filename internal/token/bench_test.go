package token_test

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/authd/authd/internal/testenv/dbtest"

	"github.com/authd/authd/internal/cache"
	"github.com/authd/authd/internal/cache/memory"
	"github.com/authd/authd/internal/cache/redis"
	"github.com/authd/authd/internal/cache/tiered"
	"github.com/authd/authd/internal/keys"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/store/sqlite"
	"github.com/authd/authd/internal/testenv/redistest"
	"github.com/authd/authd/internal/token"
)

// Introspection benchmarks at each tier:
//
//	AUTHD_TEST_REDIS_URL=redis://127.0.0.1:6379/0 go test ./internal/token -run '^$' -bench Introspect -benchmem
//
// hot: L1 (in-process) hit; warm: Redis hit, no L1; cold: no cache, the store
// (and for JWTs a signature check) every time.
func newService(b *testing.B, c cache.Cache) (*token.Service, *sqlite.DB) {
	b.Helper()
	ctx := context.Background()
	db := dbtest.SQLite(b)
	sealer, _ := keys.NewSealer(make([]byte, 32))
	km, _ := keys.NewManager(db, sealer, keys.Options{Purposes: []keys.Purpose{{Name: keys.PurposeAccess, Algorithm: keys.ES256}}, Retain: 25 * time.Hour})
	if err := km.Load(ctx); err != nil {
		b.Fatal(err)
	}
	for _, format := range []string{oauth.FormatJWT, oauth.FormatOpaque} {
		sum := sha256.Sum256([]byte("secret"))
		if err := db.CreateClient(ctx, &oauth.Client{ID: format, SecretHash: sum[:], GrantTypes: []string{oauth.GrantClientCredentials},
			Scopes: []string{"read"}, TokenEndpointAuthMethod: oauth.AuthMethodBasic, AccessTokenFormat: format,
			CreatedAt: time.Now(), UpdatedAt: time.Now()}); err != nil {
			b.Fatal(err)
		}
	}
	return token.New(token.Deps{Clients: db, Tokens: db, Revocations: db, Signer: km, Cache: c}, token.Options{Issuer: "https://auth.example"}), db
}

func issueN(b *testing.B, s *token.Service, format string, n int) []string {
	b.Helper()
	out := make([]string, n)
	for i := range out {
		resp, err := s.Exchange(context.Background(), &token.Request{GrantType: oauth.GrantClientCredentials,
			Credentials: token.Credentials{ClientID: format, Secret: "secret", Method: oauth.AuthMethodBasic}})
		if err != nil {
			b.Fatal(err)
		}
		out[i] = resp.AccessToken
	}
	return out
}

func tiers(b *testing.B) map[string]func() cache.Cache {
	return map[string]func() cache.Cache{
		"hot": func() cache.Cache {
			m := memory.New(memory.Options{})
			b.Cleanup(m.Close)
			return m
		},
		"warm": func() cache.Cache {
			u, prefix := redistest.Setup(b)
			r, err := redis.New(context.Background(), redis.Options{URL: u, Prefix: prefix, EncryptionKey: make([]byte, 32)})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(r.Close)
			return r
		},
		// L1 over Redis, as replicas run: hits come from L1 within the bound.
		"tiered": func() cache.Cache {
			u, prefix := redistest.Setup(b)
			r, err := redis.New(context.Background(), redis.Options{URL: u, Prefix: prefix, EncryptionKey: make([]byte, 32)})
			if err != nil {
				b.Fatal(err)
			}
			l1 := memory.New(memory.Options{Tier: "l1"})
			t, err := tiered.New(tiered.Options{L1: l1, L2: r, ImmutableKinds: []string{"jwt"}})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { t.Close(); l1.Close(); r.Close() })
			return t
		},
		"cold": func() cache.Cache { return nil },
	}
}

func BenchmarkIntrospect(b *testing.B) {
	for _, tier := range []string{"hot", "tiered", "warm", "cold"} {
		for _, format := range []string{oauth.FormatJWT, oauth.FormatOpaque} {
			b.Run(tier+"/"+format, func(b *testing.B) {
				s, _ := newService(b, tiers(b)[tier]())
				toks := issueN(b, s, format, 64)
				ctx := context.Background()
				for _, t := range toks {
					if info, err := s.Introspect(ctx, t); err != nil || !info.Active {
						b.Fatal("token not active", err)
					}
				}
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					i := 0
					for pb.Next() {
						info, err := s.Introspect(ctx, toks[i%len(toks)])
						if err != nil || !info.Active {
							b.Fatal("inactive", err)
						}
						i++
					}
				})
			})
		}
	}
}

// BenchmarkIntrospectBatch reports tokens/s for batches of 100 cached tokens.
func BenchmarkIntrospectBatch(b *testing.B) {
	for _, tier := range []string{"hot", "tiered", "warm"} {
		for _, format := range []string{oauth.FormatJWT, oauth.FormatOpaque} {
			b.Run(tier+"/"+format, func(b *testing.B) {
				s, _ := newService(b, tiers(b)[tier]())
				toks := issueN(b, s, format, token.MaxBatch)
				ctx := context.Background()
				if _, err := s.IntrospectBatch(ctx, toks); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						infos, err := s.IntrospectBatch(ctx, toks)
						if err != nil || !infos[99].Active {
							b.Fatal("batch failed", err)
						}
					}
				})
				b.ReportMetric(float64(b.N*token.MaxBatch)/b.Elapsed().Seconds(), "tokens/s")
			})
		}
	}
}
