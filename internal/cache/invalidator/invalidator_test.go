package invalidator_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/authd/authd/internal/cache/invalidator"
	"github.com/authd/authd/internal/store"
	"github.com/authd/authd/internal/testenv/dbtest"
)

// fakeCache records deletions and fails while down.
type fakeCache struct {
	mu      sync.Mutex
	down    bool
	deletes [][]string
}

var errDown = errors.New("cache down")

func (c *fakeCache) Delete(_ context.Context, keys ...string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down {
		return errDown
	}
	c.deletes = append(c.deletes, keys)
	return nil
}

func (c *fakeCache) setDown(d bool) {
	c.mu.Lock()
	c.down = d
	c.mu.Unlock()
}

func (c *fakeCache) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.deletes)
}

// memOutbox is an in-memory store.Invalidations for tests inside a synctest
// bubble (a real store's goroutines must not live in the bubble).
type memOutbox struct {
	mu   sync.Mutex
	next int64
	recs []*store.Invalidation
}

func (o *memOutbox) AddInvalidation(_ context.Context, inv *store.Invalidation) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.next++
	x := *inv
	x.ID = o.next
	o.recs = append(o.recs, &x)
	return nil
}

func (o *memOutbox) PendingInvalidations(_ context.Context, now time.Time, after int64, limit int) ([]*store.Invalidation, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []*store.Invalidation
	for _, r := range o.recs {
		if r.ID > after && !r.ExpiresAt.Before(now) && len(out) < limit {
			out = append(out, r)
		}
	}
	return out, nil
}

func (o *memOutbox) DeleteInvalidations(_ context.Context, ids []int64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.recs = slices.DeleteFunc(o.recs, func(r *store.Invalidation) bool { return slices.Contains(ids, r.ID) })
	return nil
}

func (o *memOutbox) len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.recs)
}

func TestInvalidateRecordsWhatDidNotLand(t *testing.T) {
	tests := []struct {
		name        string
		down        bool
		wantRecords int
	}{
		{"deleted", false, 0},
		{"cache down: recorded before returning", true, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, o := &fakeCache{down: tc.down}, &memOutbox{}
			v := invalidator.New(c, o, invalidator.Options{})
			if err := v.Invalidate(t.Context(), "at:x", "rev:y"); err != nil {
				t.Fatal(err)
			}
			if got := o.len(); got != tc.wantRecords {
				t.Fatalf("outbox holds %d records, want %d", got, tc.wantRecords)
			}
			if tc.wantRecords > 0 {
				recs, _ := o.PendingInvalidations(t.Context(), time.Now(), 0, 10)
				if !slices.Equal(recs[0].Keys, []string{"at:x", "rev:y"}) {
					t.Fatalf("recorded keys %q", recs[0].Keys)
				}
				if exp := recs[0].ExpiresAt.Sub(recs[0].CreatedAt); exp < time.Minute {
					t.Fatalf("record lives %v, less than the entries it names", exp)
				}
			}
		})
	}
}

// failingOutbox cannot record.
type failingOutbox struct{ memOutbox }

func (*failingOutbox) AddInvalidation(context.Context, *store.Invalidation) error {
	return store.ErrUnavailable
}

// A deletion that neither the cache nor the outbox took must not be acknowledged.
func TestInvalidateFailsWhenNothingTookIt(t *testing.T) {
	v := invalidator.New(&fakeCache{down: true}, &failingOutbox{}, invalidator.Options{})
	if err := v.Invalidate(t.Context(), "at:x"); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Invalidate = %v, want the outbox's error", err)
	}
}

func TestRepeatsDeletionOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, o := &fakeCache{}, &memOutbox{}
		v := invalidator.New(c, o, invalidator.Options{Redelete: time.Second})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { v.Run(ctx); close(done) }()
		if err := v.Invalidate(ctx, "at:x"); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if n := c.count(); n != 1 {
			t.Fatalf("%d deletions at once, want 1", n)
		}
		time.Sleep(999 * time.Millisecond)
		synctest.Wait()
		if n := c.count(); n != 1 {
			t.Fatalf("%d deletions before the repeat is due, want 1", n)
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if n := c.count(); n != 2 {
			t.Fatalf("%d deletions once the repeat is due, want 2", n)
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		if n := c.count(); n != 2 {
			t.Fatalf("%d deletions an hour later, want 2", n)
		}
		cancel()
		<-done
	})
}

// A repeat that fails goes to the outbox; so do repeats still waiting when
// the replica stops.
func TestRepeatsSurviveFailureAndStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, o := &fakeCache{}, &memOutbox{}
		v := invalidator.New(c, o, invalidator.Options{Redelete: time.Second})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { v.Run(ctx); close(done) }()
		if err := v.Invalidate(ctx, "at:fails-later"); err != nil {
			t.Fatal(err)
		}
		c.setDown(true)
		time.Sleep(time.Second)
		synctest.Wait()
		if o.len() != 1 {
			t.Fatalf("failed repeat: outbox holds %d records, want 1", o.len())
		}
		c.setDown(false)
		if err := v.Invalidate(ctx, "at:pending"); err != nil {
			t.Fatal(err)
		}
		cancel()
		<-done
		recs, _ := o.PendingInvalidations(context.Background(), time.Now(), 0, 10)
		if len(recs) != 2 || !slices.Equal(recs[1].Keys, []string{"at:pending"}) {
			t.Fatalf("after stop the outbox holds %d records (%v), want the pending repeat too", len(recs), recs)
		}
	})
}

func TestPollAppliesOutbox(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, o := &fakeCache{}, &memOutbox{}
		now := time.Now()
		_ = o.AddInvalidation(t.Context(), &store.Invalidation{Keys: []string{"at:other-replica"}, CreatedAt: now, ExpiresAt: now.Add(time.Minute)})
		v := invalidator.New(c, o, invalidator.Options{Poll: time.Second, Redelete: time.Second})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { v.Run(ctx); close(done) }()
		time.Sleep(time.Second)
		synctest.Wait()
		// Applied, and a second old: past the repeat window, so removed.
		if c.count() != 1 || o.len() != 0 {
			t.Fatalf("after one poll: %d deletions, %d records; want 1, 0", c.count(), o.len())
		}
		cancel()
		<-done
	})
}

// ApplyOutbox against a real store: records are applied in pages, the young
// kept for others, the old removed, and a failing cache keeps them all.
func TestApplyOutbox(t *testing.T) {
	st := dbtest.SQLite(t)
	ctx := t.Context()
	now := time.Now()
	for i := range 1200 { // more than one page
		created := now.Add(-time.Minute)
		if i%2 == 0 {
			created = now // within the repeat window
		}
		if err := st.AddInvalidation(ctx, &store.Invalidation{Keys: []string{"k"}, CreatedAt: created, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	down := &fakeCache{down: true}
	if err := invalidator.ApplyOutbox(ctx, st, down, now, time.Second); err == nil {
		t.Fatal("ApplyOutbox with the cache down succeeded")
	}
	c := &fakeCache{}
	if err := invalidator.ApplyOutbox(ctx, st, c, now, time.Second); err != nil {
		t.Fatal(err)
	}
	if c.count() != 1200 {
		t.Fatalf("%d deletions, want 1200", c.count())
	}
	left, err := st.PendingInvalidations(ctx, now, 0, 2000)
	if err != nil || len(left) != 600 {
		t.Fatalf("%d records left (%v), want the 600 young ones", len(left), err)
	}
}
