package batch

import (
	"context"
	"sync"

	"github.com/authd/authd/internal/store"
)

// TokenCreator is the store method AccessTokens puts a Writer in front of.
type TokenCreator interface {
	CreateAccessTokens(ctx context.Context, tokens []*store.AccessToken) error
}

// AccessTokens group-commits opaque access tokens. Its CreateAccessTokens has
// the store's signature and contract (all of a call's tokens or none, returned
// once durable), so it drops in front of the store. It is safe for concurrent
// use.
type AccessTokens struct {
	st TokenCreator
	w  *Writer[[]*store.AccessToken]
	// rows recycles the slices that concatenate a batch's calls.
	rows sync.Pool // *[]*store.AccessToken
}

// NewAccessTokens returns a running group-commit writer in front of st. The
// unit of batching is a call, not a token: opts.MaxBatch counts calls, and a
// call with several tokens is retried as a whole, which keeps the store's
// all-or-none promise per call.
func NewAccessTokens(st TokenCreator, opts Options) *AccessTokens {
	a := &AccessTokens{st: st}
	a.rows.New = func() any { return new([]*store.AccessToken) }
	a.w = New(a.flush, opts)
	return a
}

// CreateAccessTokens stores tokens, all or none, in a transaction shared with
// other callers, and returns once they are durable; see Writer.Write for how
// ctx is honoured. The store's errors come back as they are (store.ErrConflict,
// store.ErrUnavailable); after Close it returns ErrClosed. tokens must not be
// modified until it returns.
func (a *AccessTokens) CreateAccessTokens(ctx context.Context, tokens []*store.AccessToken) error {
	if len(tokens) == 0 {
		return nil
	}
	return a.w.Write(ctx, tokens)
}

// Close flushes what is queued and stops; see Writer.Close.
func (a *AccessTokens) Close(ctx context.Context) error {
	return a.w.Close(ctx)
}

func (a *AccessTokens) flush(ctx context.Context, calls [][]*store.AccessToken) error {
	if len(calls) == 1 {
		return a.st.CreateAccessTokens(ctx, calls[0])
	}
	buf := a.rows.Get().(*[]*store.AccessToken)
	rows := (*buf)[:0]
	for _, c := range calls {
		rows = append(rows, c...)
	}
	err := a.st.CreateAccessTokens(ctx, rows)
	clear(rows) // drop the token pointers while the slice sits in the pool
	*buf = rows[:0]
	a.rows.Put(buf)
	return err
}
