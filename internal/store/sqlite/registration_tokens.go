package sqlite

import (
	"context"
	"time"

	"github.com/authd/authd/internal/store"
)

// CreateRegistrationToken inserts t; ErrConflict if t.Hash exists.
func (d *DB) CreateRegistrationToken(ctx context.Context, t *store.RegistrationToken) error {
	_, err := d.exec(ctx, `INSERT INTO registration_tokens (hash, expires_at, max_uses, uses, created_at)
		VALUES (?, ?, ?, 0, ?)`, t.Hash, t.ExpiresAt.UnixMicro(), t.MaxUses, t.CreatedAt.UnixMicro())
	return d.fail(ctx, "create registration token", err)
}

// UseRegistrationToken spends one use in one statement: the single writer
// makes the check and the increment one step.
func (d *DB) UseRegistrationToken(ctx context.Context, hash []byte, now time.Time) error {
	return d.fail(ctx, "use registration token", rowsAffected(d.exec(ctx,
		`UPDATE registration_tokens SET uses = uses + 1 WHERE hash = ? AND expires_at >= ? AND uses < max_uses`,
		hash, now.UnixMicro())))
}
