package memory_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/authd/authd/internal/ratelimit"
	"github.com/authd/authd/internal/ratelimit/memory"
)

// A limit that a benchmark's calls mostly stay within, so that most calls
// charge (the write path) rather than deny.
var benchLimit = ratelimit.Limit{Rate: 1000, Burst: 1_000_000_000}

func BenchmarkAllow(b *testing.B) {
	ctx := context.Background()
	b.Run("serial", func(b *testing.B) {
		l := memory.New(memory.Options{})
		b.Cleanup(l.Close)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := l.Allow(ctx, "ip:192.0.2.1", benchLimit, 1); err != nil {
				b.Fatal(err)
			}
		}
	})
	// Every goroutine on one key: the worst case for the key's lock.
	b.Run("parallel/hot-key", func(b *testing.B) {
		l := memory.New(memory.Options{})
		b.Cleanup(l.Close)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := l.Allow(ctx, "ip:192.0.2.1", benchLimit, 1); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	// 100,000 keys, each already held: the steady state of a busy replica.
	b.Run("parallel/many-keys", func(b *testing.B) {
		l := memory.New(memory.Options{})
		b.Cleanup(l.Close)
		keys := make([]string, 100_000)
		for i := range keys {
			keys[i] = "ip:10." + strconv.Itoa(i>>16) + "." + strconv.Itoa(i>>8&255) + "." + strconv.Itoa(i&255)
			_, _ = l.Allow(ctx, keys[i], benchLimit, 1)
		}
		var seed atomic.Uint64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := seed.Add(7919)
			for pb.Next() {
				i = i*6364136223846793005 + 1442695040888963407
				if _, err := l.Allow(ctx, keys[(i>>33)%uint64(len(keys))], benchLimit, 1); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	// Cost 0 on a full key: what a login guard pays before every password check.
	b.Run("parallel/look", func(b *testing.B) {
		l := memory.New(memory.Options{})
		b.Cleanup(l.Close)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := l.Allow(ctx, "acct:alice", benchLimit, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}
