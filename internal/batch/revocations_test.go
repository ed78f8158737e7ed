package batch_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/internal/batch"
	"github.com/authd/authd/internal/store"
)

// countingRevocations counts the transactions that reach the store.
type countingRevocations struct {
	batch.RevocationStore
	calls atomic.Int64
}

func (c *countingRevocations) RevokeMany(ctx context.Context, rs []store.Revocation) error {
	c.calls.Add(1)
	return c.RevocationStore.RevokeMany(ctx, rs)
}

func TestRevocationsOnStores(t *testing.T) {
	const callers = 500
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			st := &countingRevocations{RevocationStore: be.open(t).(batch.RevocationStore)}
			ctx := t.Context()
			r := batch.NewRevocations(st, be.opts)
			exp := time.Now().Add(time.Hour)
			var wg sync.WaitGroup
			errs := make([]error, callers)
			for i := range callers {
				wg.Go(func() { errs[i] = r.Revoke(ctx, fmt.Sprint("jti-", i%(callers-10)), exp) }) // some ids twice
			}
			wg.Wait()
			if err := r.Close(ctx); err != nil {
				t.Fatal(err)
			}
			for i, err := range errs {
				if err != nil {
					t.Fatalf("Revoke %d: %v", i, err)
				}
			}
			ids := make([]string, callers-10)
			for i := range ids {
				ids[i] = fmt.Sprint("jti-", i)
			}
			got, err := r.Revoked(ctx, ids)
			if err != nil || len(got) != len(ids) {
				t.Fatalf("Revoked: %d of %d (%v): an acknowledged revocation is missing", len(got), len(ids), err)
			}
			if n := st.calls.Load(); n >= callers {
				t.Errorf("%d transactions for %d revocations: no batching", n, callers)
			}
			if err := r.Revoke(ctx, "late", exp); err != batch.ErrClosed {
				t.Errorf("Revoke after Close: %v", err)
			}
		})
	}
}
