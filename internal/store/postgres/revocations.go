package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/authd/authd/internal/store"
)

// Revoke records id as revoked until expiresAt; revoking twice keeps the later expiry.
func (d *DB) Revoke(ctx context.Context, id string, expiresAt time.Time) error {
	_, err := d.pool.Exec(ctx, `INSERT INTO revocations (id, expires_at) VALUES ($1, $2)
		ON CONFLICT (id) DO UPDATE SET expires_at = GREATEST(revocations.expires_at, EXCLUDED.expires_at)`,
		id, nullTime(expiresAt))
	return d.fail(ctx, "revoke", err)
}

// RevokeMany records several revocations in one statement (so one
// transaction). An id may appear once per statement in ON CONFLICT DO UPDATE,
// so duplicates are merged first, keeping the later expiry.
func (d *DB) RevokeMany(ctx context.Context, rs []store.Revocation) error {
	if len(rs) == 0 {
		return nil
	}
	latest := make(map[string]time.Time, len(rs))
	for _, r := range rs {
		if cur, ok := latest[r.ID]; !ok || r.ExpiresAt.After(cur) {
			latest[r.ID] = r.ExpiresAt
		}
	}
	ids := make([]string, 0, len(latest))
	exps := make([]pgtype.Timestamptz, 0, len(latest))
	for id, exp := range latest {
		ids = append(ids, id)
		exps = append(exps, nullTime(exp))
	}
	_, err := d.pool.Exec(ctx, `INSERT INTO revocations (id, expires_at)
		SELECT * FROM unnest($1::text[], $2::timestamptz[])
		ON CONFLICT (id) DO UPDATE SET expires_at = GREATEST(revocations.expires_at, EXCLUDED.expires_at)`, ids, exps)
	return d.fail(ctx, "revoke many", err)
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
