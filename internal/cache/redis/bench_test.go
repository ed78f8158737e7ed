package redis_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/authd/authd/internal/cache/redis"
)

var introValue = make([]byte, 300)

// parallelism × GOMAXPROCS goroutines share the connection, as concurrent
// requests do in a replica (64 on a 2-core machine, like wrk -c64): the load
// under which rueidis's auto-pipelining batches commands.
const parallelism = 32

func benchCache(b *testing.B, sealed bool) (*redis.Cache, []string) {
	opts := redis.Options{Timeout: time.Second}
	if sealed {
		opts.EncryptionKey = newKey(b)
	}
	c := open(b, opts)
	ctx := context.Background()
	keys := make([]string, 100)
	for i := range keys {
		keys[i] = fmt.Sprintf("intro:%064x", i)
		if err := c.Set(ctx, keys[i], introValue, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	return c, keys
}

func BenchmarkGetHit(b *testing.B) {
	for _, sealed := range []bool{false, true} {
		b.Run(fmt.Sprintf("sealed=%v", sealed), func(b *testing.B) {
			c, keys := benchCache(b, sealed)
			ctx := context.Background()
			b.ReportAllocs()
			b.SetParallelism(parallelism)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					if _, ok, err := c.Get(ctx, keys[i%len(keys)]); !ok || err != nil {
						b.Fatal(ok, err)
					}
					i++
				}
			})
		})
	}
}

func BenchmarkSet(b *testing.B) {
	c, keys := benchCache(b, true)
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(parallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if err := c.Set(ctx, keys[i%len(keys)], introValue, time.Hour); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

func BenchmarkMGet100(b *testing.B) {
	c, keys := benchCache(b, true)
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(parallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.MGet(ctx, keys); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkGetBreakerOpen is the cost of a call while Redis is down.
func BenchmarkGetBreakerOpen(b *testing.B) {
	c := open(b, redis.Options{URL: "redis://127.0.0.1:1", TripAfter: 1, OpenFor: time.Hour})
	ctx := context.Background()
	_, _, _ = c.Get(ctx, "intro:x")
	b.ReportAllocs()
	b.SetParallelism(parallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, _, _ = c.Get(ctx, "intro:x")
		}
	})
}
