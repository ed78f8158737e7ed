package memory_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/authd/authd/internal/cache/memory"
)

// introValue is about the size of a rendered introspection response.
var introValue = make([]byte, 300)

func BenchmarkGetHit(b *testing.B) {
	c := memory.New(memory.Options{})
	defer c.Close()
	ctx := context.Background()
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprintf("intro:%064x", i)
		_ = c.Set(ctx, keys[i], introValue, time.Hour)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, ok, _ := c.Get(ctx, keys[i&1023]); !ok {
				b.Fatal("miss")
			}
			i++
		}
	})
}

func BenchmarkSet(b *testing.B) {
	c := memory.New(memory.Options{})
	defer c.Close()
	ctx := context.Background()
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprintf("intro:%064x", i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			_ = c.Set(ctx, keys[i&1023], introValue, time.Hour)
			i++
		}
	})
}

func BenchmarkMGet100(b *testing.B) {
	c := memory.New(memory.Options{})
	defer c.Close()
	ctx := context.Background()
	keys := make([]string, 100)
	for i := range keys {
		keys[i] = fmt.Sprintf("intro:%064x", i)
		_ = c.Set(ctx, keys[i], introValue, time.Hour)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.MGet(ctx, keys); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkMillionTokens fills the cache with one million entries of each
// kind an introspected opaque token costs and reports what they cost: the
// heap the process holds for them (MaxBytes must be at least what the cache
// accounts for a million of them to stay cached).
//
//   - stored: the introspection answer of a stored token (a 70-byte key, a
//     300-byte value);
//   - sealed: a sealed token has no cached answer (it carries its record),
//     only its revocation state, as a JWT (a 26-byte key, a 1-byte value).
func BenchmarkMillionTokens(b *testing.B) {
	for _, tc := range []struct {
		name  string
		key   string
		value []byte
	}{
		{"stored", "intro:%064x", introValue},
		{"sealed", "rev:%022x", []byte{'0'}},
	} {
		b.Run(tc.name, func(b *testing.B) { millionEntries(b, tc.key, tc.value) })
	}
}

func millionEntries(b *testing.B, keyFormat string, value []byte) {
	const n = 1_000_000
	ctx := context.Background()
	for range b.N {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		c := memory.New(memory.Options{MaxBytes: 2 << 30})
		for i := range n {
			_ = c.Set(ctx, fmt.Sprintf(keyFormat, i), value, time.Hour)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		held := 0
		for i := 0; i < n; i += 1000 {
			if _, ok, _ := c.Get(ctx, fmt.Sprintf(keyFormat, i)); ok {
				held++
			}
		}
		if held < 990 {
			b.Fatalf("only %d of 1000 sampled tokens held", held)
		}
		b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/n, "heap-B/token")
		b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/(1<<20), "heap-MB")
		c.Close()
	}
}
