package memory_test

import (
	"context"
	"fmt"
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
