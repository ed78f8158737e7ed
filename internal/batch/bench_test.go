package batch_test

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/internal/batch"
	"github.com/authd/authd/internal/store"
)

// BenchmarkCreateAccessTokens compares one transaction per token ("direct")
// with the group-commit writer, under about 64 concurrent callers (like wrk
// -c64 against the token endpoint). ns/op is wall time per token; tokens/tx
// is how many rows each transaction carried.
//
//	AUTHD_TEST_POSTGRES_URL=... go test -run '^$' -bench CreateAccessTokens -benchmem ./internal/batch/
func BenchmarkCreateAccessTokens(b *testing.B) {
	type variant struct {
		name string
		opts batch.Options
	}
	for _, be := range []struct {
		name     string
		open     func(tb testing.TB) tokenStore
		variants []variant
	}{
		{"sqlite", openSQLite, []variant{
			{"delay=0", batch.Options{Flushers: 1}},
			{"delay=1ms", batch.Options{Flushers: 1, MaxDelay: time.Millisecond}},
		}},
		{"postgres", openPostgres, []variant{
			{"delay=0/flushers=1", batch.Options{Flushers: 1}},
			{"delay=0/flushers=2", batch.Options{Flushers: 2}},
			{"delay=0/flushers=4", batch.Options{Flushers: 4}},
			{"delay=1ms/flushers=2", batch.Options{Flushers: 2, MaxDelay: time.Millisecond}},
		}},
	} {
		b.Run(be.name, func(b *testing.B) {
			st := &countingStore{tokenStore: be.open(b)}
			newToken := tokenSource()
			b.Run("direct", func(b *testing.B) {
				benchCreate(b, st, newToken, st.CreateAccessTokens)
			})
			for _, v := range be.variants {
				b.Run("group-commit/"+v.name, func(b *testing.B) {
					w := batch.NewAccessTokens(st, v.opts)
					benchCreate(b, st, newToken, w.CreateAccessTokens)
					if err := w.Close(context.Background()); err != nil {
						b.Fatalf("Close: %v", err)
					}
				})
			}
		})
	}
}

// BenchmarkWriterOverhead measures the writer alone, with a flush that does
// nothing: the cost per item and its allocations.
func BenchmarkWriterOverhead(b *testing.B) {
	w := batch.New(func(context.Context, []*int) error { return nil }, batch.Options{})
	defer w.Close(context.Background())
	item := new(int)
	b.ReportAllocs()
	b.SetParallelism(32)
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if err := w.Write(ctx, item); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// tokenSource returns distinct tokens across every run of a benchmark that
// shares one store.
func tokenSource() func() *store.AccessToken {
	var prefix [24]byte
	_, _ = rand.Read(prefix[:])
	var n atomic.Uint64
	return func() *store.AccessToken {
		h := make([]byte, 32)
		copy(h, prefix[:])
		binary.BigEndian.PutUint64(h[24:], n.Add(1))
		return &store.AccessToken{
			Hash: h, ClientID: "bench", Subject: "bench", Scope: "api",
			IssuedAt: t0, ExpiresAt: t0.Add(time.Hour),
		}
	}
}

func benchCreate(b *testing.B, st *countingStore, newToken func() *store.AccessToken,
	create func(context.Context, []*store.AccessToken) error) {
	before := st.calls.Load()
	b.ReportAllocs()
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if err := create(ctx, []*store.AccessToken{newToken()}); err != nil {
				b.Error(fmt.Errorf("CreateAccessTokens: %w", err))
				return
			}
		}
	})
	b.StopTimer()
	if txs := st.calls.Load() - before; txs > 0 {
		b.ReportMetric(float64(b.N)/float64(txs), "tokens/tx")
	}
}
