package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/authd/authd/internal/store"
)

// AddInvalidation records inv.
func (d *DB) AddInvalidation(ctx context.Context, inv *store.Invalidation) error {
	keys, err := encodeList(inv.Keys)
	if err != nil {
		return d.fail(ctx, "add invalidation", err)
	}
	_, err = d.exec(ctx, `INSERT INTO cache_invalidations (keys, created_at, expires_at) VALUES (?, ?, ?)`,
		keys, micros(inv.CreatedAt), inv.ExpiresAt.UnixMicro())
	return d.fail(ctx, "add invalidation", err)
}

// PendingInvalidations returns up to limit unexpired records after afterID, oldest first.
func (d *DB) PendingInvalidations(ctx context.Context, now time.Time, afterID int64, limit int) ([]*store.Invalidation, error) {
	rows, err := d.query(ctx, `SELECT id, keys, created_at, expires_at FROM cache_invalidations
		WHERE id > ? AND expires_at >= ? ORDER BY id LIMIT ?`, afterID, now.UnixMicro(), limit)
	if err != nil {
		return nil, d.fail(ctx, "pending invalidations", err)
	}
	defer rows.Close()
	var out []*store.Invalidation
	for rows.Next() {
		var (
			inv                  store.Invalidation
			keys                 string
			createdAt, expiresAt sql.NullInt64
		)
		if err := rows.Scan(&inv.ID, &keys, &createdAt, &expiresAt); err != nil {
			return nil, d.fail(ctx, "pending invalidations", err)
		}
		if inv.Keys, err = decodeList(keys); err != nil {
			return nil, d.fail(ctx, "pending invalidations", err)
		}
		inv.CreatedAt, inv.ExpiresAt = fromMicros(createdAt), fromMicros(expiresAt)
		out = append(out, &inv)
	}
	if err := rows.Err(); err != nil {
		return nil, d.fail(ctx, "pending invalidations", err)
	}
	return out, nil
}

// DeleteInvalidations removes records by id.
func (d *DB) DeleteInvalidations(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	// Not a cached statement: its text depends on len(ids).
	q := `DELETE FROM cache_invalidations WHERE id IN (?` + strings.Repeat(", ?", len(ids)-1) + `)`
	_, err := d.w.ExecContext(ctx, q, args...)
	return d.fail(ctx, "delete invalidations", err)
}
