package storetest

import (
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/authd/authd/internal/store"
)

// Bench measures the store's hot paths the same way for every backend. open must
// return a fresh, migrated, empty store for the benchmark it is given and close it
// when that benchmark ends.
func Bench(b *testing.B, open func(b *testing.B) store.Store) {
	b.Run("Client", func(b *testing.B) {
		s := open(b)
		ctx := b.Context()
		if err := s.CreateClient(ctx, client("bench")); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Client(ctx, "bench"); err != nil {
				b.Fatal(err)
			}
		}
	})

	// Lookups spread over a table big enough that they are not all one page.
	const tokens = 10000
	seedTokens := func(b *testing.B, s store.Store) [][]byte {
		hashes := make([][]byte, 0, tokens)
		batch := make([]*store.AccessToken, 0, 500)
		for i := range tokens {
			tok := accessToken(i, "bench")
			batch = append(batch, tok)
			hashes = append(hashes, tok.Hash)
			if len(batch) == cap(batch) {
				if err := s.CreateAccessTokens(b.Context(), batch); err != nil {
					b.Fatal(err)
				}
				batch = batch[:0]
			}
		}
		return hashes
	}
	b.Run("AccessToken", func(b *testing.B) {
		s := open(b)
		hashes := seedTokens(b, s)
		ctx := b.Context()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := s.AccessToken(ctx, hashes[i%tokens]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("AccessTokenParallel", func(b *testing.B) {
		s := open(b)
		hashes := seedTokens(b, s)
		ctx := b.Context()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, err := s.AccessToken(ctx, hashes[i%tokens]); err != nil {
					b.Error(err)
					return
				}
				i += 7
			}
		})
	})

	// Group commit pays one durable commit per batch: compare ns/token.
	for _, rows := range []int{1, 100} {
		b.Run(fmt.Sprintf("CreateAccessTokens/rows=%d", rows), func(b *testing.B) {
			s := open(b)
			ctx := b.Context()
			batch := make([]*store.AccessToken, rows)
			for i := range batch {
				batch[i] = accessToken(i, "bench")
			}
			var n uint64
			b.ReportAllocs()
			for b.Loop() {
				for _, tok := range batch {
					n++
					binary.BigEndian.PutUint64(tok.Hash, n)
				}
				if err := s.CreateAccessTokens(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/token")
		})
	}

	b.Run("RotateRefreshToken", func(b *testing.B) {
		s := open(b)
		ctx := b.Context()
		cur := refreshToken("bench-0", "bench")
		if err := s.CreateRefreshToken(ctx, cur); err != nil {
			b.Fatal(err)
		}
		var n uint64
		b.ReportAllocs()
		for b.Loop() {
			n++
			next := *cur
			next.Hash = make([]byte, 32)
			binary.BigEndian.PutUint64(next.Hash, n)
			next.IssuedAt = t0().Add(time.Duration(n) * time.Second)
			if _, err := s.RotateRefreshToken(ctx, cur.Hash, &next, next.IssuedAt); err != nil {
				b.Fatal(err)
			}
			cur = &next
		}
	})
}
