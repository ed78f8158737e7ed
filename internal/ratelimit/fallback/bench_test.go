package fallback_test

import (
	"context"
	"testing"
	"time"

	"github.com/authd/authd/internal/ratelimit"
	"github.com/authd/authd/internal/ratelimit/fallback"
	"github.com/authd/authd/internal/ratelimit/memory"
	"github.com/authd/authd/internal/ratelimit/redis"
)

// BenchmarkAllowRedisDown is a decision while Redis is down: the breaker
// rejects the call at once and the local limiter decides.
func BenchmarkAllowRedisDown(b *testing.B) {
	ctx := context.Background()
	primary, err := redis.New(ctx, redis.Options{URL: "redis://127.0.0.1:1", TripAfter: 1, OpenFor: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(primary.Close)
	local := memory.New(memory.Options{})
	b.Cleanup(local.Close)
	l := fallback.New(primary, local, fallback.Options{})
	lim := ratelimit.Limit{Rate: 1000, Burst: 1_000_000_000}
	_, _ = l.Allow(ctx, "ip:192.0.2.1", lim, 1)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := l.Allow(ctx, "ip:192.0.2.1", lim, 1); err != nil {
				b.Fatal(err)
			}
		}
	})
}
