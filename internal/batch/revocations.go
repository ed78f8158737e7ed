package batch

import (
	"context"
	"time"

	"github.com/authd/authd/internal/store"
)

// RevocationStore is the store methods Revocations uses.
type RevocationStore interface {
	RevokeMany(ctx context.Context, rs []store.Revocation) error
	Revoked(ctx context.Context, ids []string) ([]string, error)
}

// Revocations group-commits revocations: Revoke returns once its entry is
// durable, in a transaction shared with concurrent revocations (a logout storm,
// a family revoked on every replica). Revoked reads the store directly. It is
// safe for concurrent use.
type Revocations struct {
	st RevocationStore
	w  *Writer[store.Revocation]
}

// NewRevocations returns a running group-commit writer in front of st.
func NewRevocations(st RevocationStore, opts Options) *Revocations {
	return &Revocations{st: st, w: New(st.RevokeMany, opts)}
}

// Revoke records id as revoked until expiresAt and returns once it is durable.
func (r *Revocations) Revoke(ctx context.Context, id string, expiresAt time.Time) error {
	return r.w.Write(ctx, store.Revocation{ID: id, ExpiresAt: expiresAt})
}

// Revoked returns the subset of ids that are revoked.
func (r *Revocations) Revoked(ctx context.Context, ids []string) ([]string, error) {
	return r.st.Revoked(ctx, ids)
}

// Close flushes what is queued and stops; see Writer.Close.
func (r *Revocations) Close(ctx context.Context) error {
	return r.w.Close(ctx)
}
