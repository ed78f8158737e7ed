package tiered

import (
	"context"
	"testing"
	"time"

	"github.com/authd/authd/internal/cache/cachetest"
	"github.com/authd/authd/internal/cache/memory"
	"github.com/authd/authd/internal/cache/redis"
	"github.com/authd/authd/internal/testenv/redistest"
)

// TestDeleteWinsOverRacingFill: a Get that read the old value from L2 just
// before a Delete must not put it back into L1 after the Delete cleared it,
// whether the Delete is this replica's own or arrives as another's message.
func TestDeleteWinsOverRacingFill(t *testing.T) {
	url, prefix := redistest.Setup(t)
	ctx := context.Background()
	newCache := func() (*Cache, *memory.Cache) {
		l1 := memory.New(memory.Options{})
		t.Cleanup(l1.Close)
		l2, err := redis.New(ctx, redis.Options{URL: url, Prefix: prefix, Timeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(l2.Close)
		c, err := New(Options{L1: l1, L2: l2, L1MaxTTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := c.WaitSubscribed(wctx); err != nil {
			t.Fatal(err)
		}
		return c, l1
	}
	reader, readerL1 := newCache()
	other, _ := newCache()

	tests := []struct {
		name   string
		delete func(key string) error
		// wait until the delete has reached the reader's L1
		applied func(t *testing.T, before uint64)
	}{
		{
			name:    "own delete",
			delete:  func(key string) error { return reader.Delete(ctx, key) },
			applied: func(*testing.T, uint64) {},
		},
		{
			name:   "other replica's delete",
			delete: func(key string) error { return other.Delete(ctx, key) },
			applied: func(t *testing.T, before uint64) {
				cachetest.Eventually(t, time.Second, "message not applied", func() bool {
					return reader.epoch.Load() != before
				})
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := "intro:" + tc.name
			cachetest.MustSet(t, reader.l2, key, []byte("old"), time.Hour) // in L2 only
			reader.afterL2Read = func(k string) {
				before := reader.epoch.Load()
				if err := tc.delete(k); err != nil {
					t.Error(err)
				}
				tc.applied(t, before)
			}
			defer func() { reader.afterL2Read = nil }()
			// The read began before the delete, so it may return the old value…
			cachetest.WantValue(t, reader, key, []byte("old"))
			// …but must not leave it behind.
			cachetest.WantMiss(t, readerL1, key)
			reader.afterL2Read = nil
			cachetest.WantMiss(t, reader, key)
		})
	}
}
