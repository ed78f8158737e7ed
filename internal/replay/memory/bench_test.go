package memory_test

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/internal/replay"
	"github.com/authd/authd/internal/replay/memory"
)

// BenchmarkUse measures the two paths: a first use (an insert) and a replay
// (a read), on the real clock.
//
// First uses cycle through 2^18 keys with records of 50 ms: a key comes round
// again only after 2^18 uses, long after its record expired, so the uses are
// first uses and the cache never holds more than the ring of keys. A caller
// preempted for longer than 50 ms between reading the time and Use makes an
// until that has passed (ErrInvalid); that is tolerated, any other error is
// not.
func BenchmarkUse(b *testing.B) {
	ctx := context.Background()
	keys := make([]string, 1<<18)
	for i := range keys {
		keys[i] = "dpop:" + strconv.FormatUint(uint64(i)*0x9e3779b97f4a7c15, 36)
	}
	use := func(b *testing.B, c *memory.Cache, key string) {
		if _, err := c.Use(ctx, key, time.Now().Add(50*time.Millisecond)); err != nil && !errors.Is(err, replay.ErrInvalid) {
			b.Fatal(err)
		}
	}
	b.Run("first/serial", func(b *testing.B) {
		c := memory.New(memory.Options{MaxKeys: 1 << 20})
		b.Cleanup(c.Close)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			use(b, c, keys[i&(len(keys)-1)])
		}
	})
	b.Run("first/parallel", func(b *testing.B) {
		c := memory.New(memory.Options{MaxKeys: 1 << 20})
		b.Cleanup(c.Close)
		var seq atomic.Int64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				use(b, c, keys[int(seq.Add(1))&(len(keys)-1)])
			}
		})
	})
	// A replay flood against held records: what an attacker resending
	// captured proofs costs.
	b.Run("replay/parallel", func(b *testing.B) {
		c := memory.New(memory.Options{MaxKeys: 1 << 20})
		b.Cleanup(c.Close)
		until := time.Now().Add(time.Hour)
		for _, k := range keys[:1<<16] {
			_, _ = c.Use(ctx, k, until)
		}
		var seq atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := int(seq.Add(7919))
			for pb.Next() {
				i++
				if first, err := c.Use(ctx, keys[i&(1<<16-1)], until); first || err != nil {
					b.Fatalf("replay = %v, %v", first, err)
				}
			}
		})
	})
}
