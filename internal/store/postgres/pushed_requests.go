package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/authd/authd/internal/store"
)

// CreatePushedRequest inserts r; ErrConflict if r.Hash exists.
func (d *DB) CreatePushedRequest(ctx context.Context, r *store.PushedRequest) error {
	_, err := d.pool.Exec(ctx, `INSERT INTO pushed_requests (hash, client_id, params, expires_at, created_at)
		VALUES ($1, $2, $3, $4, $5)`, r.Hash, r.ClientID, r.Params, atTime(r.ExpiresAt), atTime(r.CreatedAt))
	return d.fail(ctx, "create pushed request", err)
}

// ConsumePushedRequest deletes and returns the row in one statement: the row
// lock DELETE takes makes a concurrent caller find it gone once the first
// commits, so one caller wins.
func (d *DB) ConsumePushedRequest(ctx context.Context, hash []byte, clientID string, now time.Time) (*store.PushedRequest, error) {
	var (
		r                  store.PushedRequest
		expires, createdAt pgtype.Timestamptz
	)
	err := d.pool.QueryRow(ctx, `DELETE FROM pushed_requests WHERE hash = $1 AND client_id = $2 AND expires_at >= $3
		RETURNING hash, client_id, params, expires_at, created_at`, hash, clientID, atTime(now)).
		Scan(&r.Hash, &r.ClientID, &r.Params, &expires, &createdAt)
	if err != nil {
		return nil, d.fail(ctx, "consume pushed request", err)
	}
	r.ExpiresAt, r.CreatedAt = fromTime(expires), fromTime(createdAt)
	return &r, nil
}
