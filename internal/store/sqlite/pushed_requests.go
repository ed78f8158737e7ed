package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/authd/authd/internal/store"
)

// CreatePushedRequest inserts r; ErrConflict if r.Hash exists.
func (d *DB) CreatePushedRequest(ctx context.Context, r *store.PushedRequest) error {
	_, err := d.exec(ctx, `INSERT INTO pushed_requests (hash, client_id, params, expires_at, created_at)
		VALUES (?, ?, ?, ?, ?)`, r.Hash, r.ClientID, r.Params, r.ExpiresAt.UnixMicro(), r.CreatedAt.UnixMicro())
	return d.fail(ctx, "create pushed request", err)
}

// ConsumePushedRequest deletes and returns the row in one statement: the
// single writer makes finding and deleting it one step, so one caller wins.
func (d *DB) ConsumePushedRequest(ctx context.Context, hash []byte, clientID string, now time.Time) (*store.PushedRequest, error) {
	s, err := d.stmt(ctx, d.w, `DELETE FROM pushed_requests WHERE hash = ? AND client_id = ? AND expires_at >= ?
		RETURNING hash, client_id, params, expires_at, created_at`)
	if err != nil {
		return nil, d.fail(ctx, "consume pushed request", err)
	}
	var (
		r                  store.PushedRequest
		expires, createdAt sql.NullInt64
	)
	err = s.QueryRowContext(ctx, hash, clientID, now.UnixMicro()).Scan(&r.Hash, &r.ClientID, &r.Params, &expires, &createdAt)
	if err != nil {
		return nil, d.fail(ctx, "consume pushed request", err)
	}
	r.ExpiresAt, r.CreatedAt = fromMicros(expires), fromMicros(createdAt)
	return &r, nil
}
