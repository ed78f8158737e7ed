package batch_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/internal/testenv/dbtest"

	"github.com/authd/authd/internal/batch"
	"github.com/authd/authd/internal/store"
)

// tokenStore is the slice of the store these tests use.
type tokenStore interface {
	batch.TokenCreator
	AccessToken(ctx context.Context, hash []byte) (*store.AccessToken, error)
}

// backend opens a fresh, migrated store; opts are the writer options that suit it.
type backend struct {
	name string
	open func(tb testing.TB) tokenStore
	opts batch.Options
}

func backends() []backend {
	return []backend{
		{"sqlite", openSQLite, batch.Options{MaxDelay: batch.DefaultMaxDelay, Flushers: 1}},
		{"postgres", openPostgres, batch.Options{MaxDelay: batch.DefaultMaxDelay, Flushers: 4}},
	}
}

func openSQLite(tb testing.TB) tokenStore {
	tb.Helper()
	return dbtest.SQLite(tb)
}

func openPostgres(tb testing.TB) tokenStore {
	tb.Helper()
	return dbtest.Postgres(tb)
}

// countingStore counts the transactions that reach the store.
type countingStore struct {
	tokenStore
	calls atomic.Int64
}

func (c *countingStore) CreateAccessTokens(ctx context.Context, tokens []*store.AccessToken) error {
	c.calls.Add(1)
	return c.tokenStore.CreateAccessTokens(ctx, tokens)
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func accessToken(name string) *store.AccessToken {
	h := sha256.Sum256([]byte(name))
	return &store.AccessToken{
		Hash:      h[:],
		ClientID:  "client-" + name,
		Subject:   "subject-" + name,
		Scope:     "openid profile",
		Audience:  []string{"https://api.example"},
		GrantID:   "grant-" + name,
		IssuedAt:  t0,
		ExpiresAt: t0.Add(time.Hour),
	}
}

// TestAccessTokensOnStores: every token acknowledged by the writer is in the
// store afterwards, a duplicate fails only its own call, and the store saw
// fewer transactions than calls.
func TestAccessTokensOnStores(t *testing.T) {
	const callers = 1000
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			st := &countingStore{tokenStore: be.open(t)}
			ctx := t.Context()

			// Some callers collide with tokens already stored; one multi-token
			// call collides in its last token and must store none of the three.
			dups := []int{3, 250, 251, 777}
			for _, i := range dups {
				if err := st.tokenStore.CreateAccessTokens(ctx, []*store.AccessToken{accessToken(fmt.Sprint(i))}); err != nil {
					t.Fatalf("seed duplicate: %v", err)
				}
			}
			multi := []*store.AccessToken{accessToken("multi-a"), accessToken("multi-b"), accessToken("3")}

			w := batch.NewAccessTokens(st, be.opts)
			errs := make([]error, callers)
			var multiErr error
			var wg sync.WaitGroup
			for i := range callers {
				wg.Go(func() {
					errs[i] = w.CreateAccessTokens(ctx, []*store.AccessToken{accessToken(fmt.Sprint(i))})
				})
			}
			wg.Go(func() { multiErr = w.CreateAccessTokens(ctx, multi) })
			wg.Wait()
			if err := w.Close(ctx); err != nil {
				t.Fatalf("Close: %v", err)
			}

			for i, err := range errs {
				if slices.Contains(dups, i) {
					if !errors.Is(err, store.ErrConflict) {
						t.Errorf("duplicate %d: err = %v, want ErrConflict", i, err)
					}
					continue
				}
				if err != nil {
					t.Errorf("CreateAccessTokens(%d) = %v", i, err)
					continue
				}
				want := accessToken(fmt.Sprint(i))
				got, err := st.AccessToken(ctx, want.Hash)
				if err != nil {
					t.Errorf("token %d acknowledged but not readable: %v", i, err)
					continue
				}
				if got.Subject != want.Subject || got.GrantID != want.GrantID || !got.ExpiresAt.Equal(want.ExpiresAt) {
					t.Errorf("token %d = %+v, want %+v", i, got, want)
				}
			}
			if !errors.Is(multiErr, store.ErrConflict) {
				t.Errorf("multi-token call with a duplicate = %v, want ErrConflict", multiErr)
			}
			for _, tok := range multi[:2] {
				if _, err := st.AccessToken(ctx, tok.Hash); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("token %s of a failed call: err = %v, want ErrNotFound (all or none)", tok.Subject, err)
				}
			}

			txs := st.calls.Load()
			t.Logf("%d calls in %d transactions (including retries)", callers+1, txs)
			if txs >= callers {
				t.Errorf("%d transactions for %d calls: no batches formed", txs, callers)
			}
		})
	}
}

func TestAccessTokensEmptyCall(t *testing.T) {
	st := &countingStore{}
	w := batch.NewAccessTokens(st, batch.Options{})
	defer w.Close(t.Context())
	if err := w.CreateAccessTokens(t.Context(), nil); err != nil {
		t.Errorf("CreateAccessTokens(nil) = %v", err)
	}
	if n := st.calls.Load(); n != 0 {
		t.Errorf("an empty call reached the store %d times", n)
	}
}
