package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// Revoke records id as revoked until expiresAt; revoking twice keeps the later expiry.
func (d *DB) Revoke(ctx context.Context, id string, expiresAt time.Time) error {
	_, err := d.pool.Exec(ctx, `INSERT INTO revocations (id, expires_at) VALUES ($1, $2)
		ON CONFLICT (id) DO UPDATE SET expires_at = GREATEST(revocations.expires_at, EXCLUDED.expires_at)`,
		id, nullTime(expiresAt))
	return d.fail(ctx, "revoke", err)
}

// Revoked returns the subset of ids that are revoked, in one round trip however
// many ids there are.
func (d *DB) Revoked(ctx context.Context, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := d.pool.Query(ctx, `SELECT id FROM revocations WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, d.fail(ctx, "revoked", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, d.fail(ctx, "revoked", err)
	}
	return unlist(out), nil
}
