package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/authd/authd/internal/store"
)

// Revoke records id as revoked until expiresAt; revoking twice keeps the later expiry.
func (d *DB) Revoke(ctx context.Context, id string, expiresAt time.Time) error {
	_, err := d.exec(ctx, `INSERT INTO revocations (id, expires_at) VALUES (?, ?)
		ON CONFLICT (id) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)`,
		id, micros(expiresAt))
	return d.fail(ctx, "revoke", err)
}

// RevokeMany records several revocations in one transaction.
func (d *DB) RevokeMany(ctx context.Context, rs []store.Revocation) error {
	if len(rs) == 0 {
		return nil
	}
	err := d.tx(ctx, func(_ *sql.Tx, stmts []*sql.Stmt) error {
		for _, r := range rs {
			if _, err := stmts[0].ExecContext(ctx, r.ID, micros(r.ExpiresAt)); err != nil {
				return err
			}
		}
		return nil
	}, `INSERT INTO revocations (id, expires_at) VALUES (?, ?)
		ON CONFLICT (id) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)`)
	return d.fail(ctx, "revoke many", err)
}

// Revoked returns the subset of ids that are revoked. The ids travel as one JSON
// parameter so the statement text, and its cached preparation, never varies.
func (d *DB) Revoked(ctx context.Context, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	list, err := encodeList(ids)
	if err != nil {
		return nil, d.fail(ctx, "revoked", err)
	}
	rows, err := d.query(ctx, `SELECT id FROM revocations WHERE id IN (SELECT value FROM json_each(?))`, list)
	if err != nil {
		return nil, d.fail(ctx, "revoked", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, d.fail(ctx, "revoked", err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, d.fail(ctx, "revoked", err)
	}
	return out, nil
}
