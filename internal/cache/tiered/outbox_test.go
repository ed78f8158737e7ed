package tiered_test

import (
	"context"
	"testing"
	"time"

	"github.com/authd/authd/internal/cache"
	"github.com/authd/authd/internal/cache/cachetest"
	"github.com/authd/authd/internal/cache/redis"
	"github.com/authd/authd/internal/cache/tiered"
	"github.com/authd/authd/internal/store"
	"github.com/authd/authd/internal/testenv/dbtest"
	"github.com/authd/authd/internal/testenv/redistest"
)

// A tiered cache with an outbox still behaves like a cache.
func TestConformanceWithOutbox(t *testing.T) {
	cachetest.Run(t, func(t *testing.T) cache.Cache {
		url, prefix := redistest.Setup(t)
		r := newReplica(t, config{url: url, prefix: prefix, tiered: tiered.Options{Outbox: dbtest.SQLite(t)}})
		r.WaitHealed(t, 10*time.Second)
		return r
	})
}

// TestOutboxBeforeTrustingL2 is the sequence a black-box run found: Redis is
// cut, a replica revokes (its Redis delete fails, so it records the deletion
// in the store's outbox) and dies; Redis comes back still holding the revoked
// token's cached "active" answer. No replica may read that answer: not one
// that saw the outage, not one started afterwards.
func TestOutboxBeforeTrustingL2(t *testing.T) {
	url, prefix := redistest.Setup(t)
	outbox := dbtest.SQLite(t)
	proxy := redistest.NewProxy(t, redistest.Target(t, url))
	cutURL := redistest.WithHost(t, url, proxy.Addr())
	l2opts := redis.Options{Timeout: 200 * time.Millisecond, TripAfter: 1, OpenFor: 50 * time.Millisecond}
	topts := tiered.Options{Outbox: outbox, RetryEvery: 20 * time.Millisecond}
	survivor := newReplica(t, config{url: cutURL, prefix: prefix, l2: l2opts, tiered: topts})
	survivor.WaitHealed(t, 10*time.Second)
	// Direct access to the shared Redis, past the proxy.
	direct := newReplica(t, config{url: url, prefix: prefix})
	ctx := context.Background()

	cachetest.MustSet(t, direct, "at:revoked", []byte("active"), time.Minute)
	cachetest.MustSet(t, direct, "at:other", []byte("kept"), time.Minute)
	cachetest.WantValue(t, survivor, "at:revoked", []byte("active"))

	proxy.SetMode(redistest.Refuse)
	// The survivor notices the outage on its next read and stops trusting L2.
	_, _, _ = survivor.Get(ctx, "at:probe")
	if survivor.Trusted() {
		t.Fatal("L2 still trusted after a failed read")
	}
	// The revoking replica (dead since) left this in the outbox.
	if err := outbox.AddInvalidation(ctx, &store.Invalidation{
		Keys: []string{"at:revoked"}, CreatedAt: time.Now().Add(-time.Minute), ExpiresAt: time.Now().Add(time.Minute),
	}); err != nil {
		t.Fatal(err)
	}
	// While untrusted, L2 is not read: a miss sends the caller to the store.
	proxy.SetMode(redistest.Forward)
	newcomer := newReplica(t, config{url: url, prefix: prefix, tiered: topts})
	// Trusted or not, neither may answer with the revoked entry.
	for _, r := range []*replica{survivor, newcomer} {
		if v, ok := cachetest.MustGet(t, r, "at:revoked"); ok {
			t.Fatalf("revoked entry served after Redis came back (trusted %v): %q", r.Trusted(), v)
		}
	}
	survivor.WaitHealed(t, 10*time.Second)
	newcomer.WaitHealed(t, 10*time.Second)
	cachetest.WantMiss(t, survivor, "at:revoked")
	cachetest.WantMiss(t, newcomer, "at:revoked")
	cachetest.WantMiss(t, direct.l2, "at:revoked") // deleted from Redis itself
	// Its subscription may come back just after the outbox was applied, and
	// a resubscription is a reason to recover again; once trusted, L2 serves.
	cachetest.Eventually(t, 10*time.Second, "L2 never served again after recovery", func() bool {
		v, ok := cachetest.MustGet(t, survivor, "at:other")
		return ok && string(v) == "kept"
	})

	// The record was old enough to be done with: it is gone from the outbox.
	left, err := outbox.PendingInvalidations(ctx, time.Now(), 0, 10)
	if err != nil || len(left) != 0 {
		t.Fatalf("outbox after recovery: %d records, %v", len(left), err)
	}
}
