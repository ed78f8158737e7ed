package tiered_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/authd/authd/internal/cache/tiered"
	"github.com/authd/authd/internal/testenv/redistest"
)

var introValue = make([]byte, 300)

// parallelism × GOMAXPROCS goroutines share the connection, as concurrent
// requests do in a replica (64 on a 2-core machine, like wrk -c64): the load
// under which rueidis's auto-pipelining batches commands.
const parallelism = 32

func benchReplica(b *testing.B, opts tiered.Options) (*replica, []string) {
	url, prefix := redistest.Setup(b)
	r := newReplica(b, config{url: url, prefix: prefix, tiered: opts})
	ctx := context.Background()
	keys := make([]string, 100)
	for i := range keys {
		keys[i] = fmt.Sprintf("intro:%064x", i)
		if err := r.Set(ctx, keys[i], introValue, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	return r, keys
}

func BenchmarkGetL1Hit(b *testing.B) {
	r, keys := benchReplica(b, tiered.Options{L1MaxTTL: time.Hour})
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(parallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, ok, _ := r.Get(ctx, keys[i%len(keys)]); !ok {
				b.Fatal("miss")
			}
			i++
		}
	})
}

// BenchmarkGetL1MissL2Hit: a 1 ns L1 TTL makes every read miss L1, hit L2
// and fill L1 again, which is the whole cost of an L1 miss.
func BenchmarkGetL1MissL2Hit(b *testing.B) {
	r, keys := benchReplica(b, tiered.Options{L1MaxTTL: time.Nanosecond})
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(parallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, ok, _ := r.Get(ctx, keys[i%len(keys)]); !ok {
				b.Fatal("miss")
			}
			i++
		}
	})
}

func BenchmarkMGet100(b *testing.B) {
	for _, tc := range []struct {
		name string
		ttl  time.Duration
	}{{"L1", time.Hour}, {"L2", time.Nanosecond}} {
		b.Run(tc.name, func(b *testing.B) {
			r, keys := benchReplica(b, tiered.Options{L1MaxTTL: tc.ttl})
			ctx := context.Background()
			b.ReportAllocs()
			b.SetParallelism(parallelism)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := r.MGet(ctx, keys); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

func BenchmarkDelete(b *testing.B) {
	r, keys := benchReplica(b, tiered.Options{})
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(parallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if err := r.Delete(ctx, keys[i%len(keys)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
