package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/authd/authd/internal/store"
)

// AddInvalidation records inv.
func (d *DB) AddInvalidation(ctx context.Context, inv *store.Invalidation) error {
	_, err := d.pool.Exec(ctx, `INSERT INTO cache_invalidations (keys, created_at, expires_at) VALUES ($1, $2, $3)`,
		list(inv.Keys), nullTime(inv.CreatedAt), atTime(inv.ExpiresAt))
	return d.fail(ctx, "add invalidation", err)
}

// PendingInvalidations returns up to limit unexpired records after afterID, oldest first.
func (d *DB) PendingInvalidations(ctx context.Context, now time.Time, afterID int64, limit int) ([]*store.Invalidation, error) {
	rows, err := d.pool.Query(ctx, `SELECT id, keys, created_at, expires_at FROM cache_invalidations
		WHERE id > $1 AND expires_at >= $2 ORDER BY id LIMIT $3`, afterID, atTime(now), limit)
	if err != nil {
		return nil, d.fail(ctx, "pending invalidations", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*store.Invalidation, error) {
		var (
			inv                  store.Invalidation
			createdAt, expiresAt pgtype.Timestamptz
		)
		if err := r.Scan(&inv.ID, &inv.Keys, &createdAt, &expiresAt); err != nil {
			return nil, err
		}
		inv.Keys = unlist(inv.Keys)
		inv.CreatedAt, inv.ExpiresAt = fromTime(createdAt), fromTime(expiresAt)
		return &inv, nil
	})
	if err != nil {
		return nil, d.fail(ctx, "pending invalidations", err)
	}
	return out, nil
}

// DeleteInvalidations removes records by id.
func (d *DB) DeleteInvalidations(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := d.pool.Exec(ctx, `DELETE FROM cache_invalidations WHERE id = ANY($1)`, ids)
	return d.fail(ctx, "delete invalidations", err)
}
