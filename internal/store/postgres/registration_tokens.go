package postgres

import (
	"context"
	"time"

	"github.com/authd/authd/internal/store"
)

// CreateRegistrationToken inserts t; ErrConflict if t.Hash exists.
func (d *DB) CreateRegistrationToken(ctx context.Context, t *store.RegistrationToken) error {
	_, err := d.pool.Exec(ctx, `INSERT INTO registration_tokens (hash, expires_at, max_uses, uses, created_at)
		VALUES ($1, $2, $3, 0, $4)`, t.Hash, t.ExpiresAt, int64(t.MaxUses), t.CreatedAt)
	return d.fail(ctx, "create registration token", err)
}

// UseRegistrationToken spends one use in one statement: the row lock taken
// by UPDATE makes concurrent callers re-check uses < max_uses after the one
// before them committed.
func (d *DB) UseRegistrationToken(ctx context.Context, hash []byte, now time.Time) error {
	return d.fail(ctx, "use registration token", affected(d.pool.Exec(ctx,
		`UPDATE registration_tokens SET uses = uses + 1 WHERE hash = $1 AND expires_at >= $2 AND uses < max_uses`,
		hash, now)))
}
