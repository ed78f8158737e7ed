package redis_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/internal/ratelimit"
	"github.com/authd/authd/internal/ratelimit/redis"
)

// parallelism × GOMAXPROCS goroutines share the connection, as concurrent
// requests do in a replica (64 on a 2-core machine, like wrk -c64): the load
// under which rueidis's auto-pipelining batches commands.
const parallelism = 32

// A limit the benchmark stays within, so that every call charges (a write).
var benchLimit = ratelimit.Limit{Rate: 1000, Burst: 1_000_000_000}

func BenchmarkAllow(b *testing.B) {
	for _, tc := range []struct {
		name string
		keys int
	}{{"hot-key", 1}, {"1000-keys", 1000}} {
		b.Run(tc.name, func(b *testing.B) {
			l := open(b, redis.Options{Timeout: time.Second})
			ctx := context.Background()
			keys := make([]string, tc.keys)
			for i := range keys {
				keys[i] = "ip:10.0." + strconv.Itoa(i>>8) + "." + strconv.Itoa(i&255)
			}
			var seed atomic.Uint64
			b.ReportAllocs()
			b.SetParallelism(parallelism)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := seed.Add(1) * 7919
				for pb.Next() {
					i++
					if _, err := l.Allow(ctx, keys[i%uint64(len(keys))], benchLimit, 1); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkAllowBreakerOpen is the cost of a call while Redis is down.
func BenchmarkAllowBreakerOpen(b *testing.B) {
	l := open(b, redis.Options{URL: "redis://127.0.0.1:1", TripAfter: 1, OpenFor: time.Hour})
	ctx := context.Background()
	_, _ = l.Allow(ctx, "k", benchLimit, 1)
	b.ReportAllocs()
	b.SetParallelism(parallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, _ = l.Allow(ctx, "k", benchLimit, 1)
		}
	})
}
