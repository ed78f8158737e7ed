package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/authd/authd/internal/store"
)

const deviceColumns = `device_code_hash, user_code_hash, client_id, scope, resources, status, subject,
	auth_time, user_generation, interval_seconds, last_poll_at, slow_down, expires_at, created_at`

// CreateDeviceAuthorization inserts a as pending; ErrConflict if either hash exists.
func (d *DB) CreateDeviceAuthorization(ctx context.Context, a *store.DeviceAuthorization) error {
	_, err := d.pool.Exec(ctx, `INSERT INTO device_authorizations (device_code_hash, user_code_hash, client_id, scope,
		resources, status, interval_seconds, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		a.DeviceCodeHash, a.UserCodeHash, a.ClientID, a.Scope, list(a.Resources), store.DevicePending,
		int32(a.Interval/time.Second), atTime(a.ExpiresAt), atTime(a.CreatedAt))
	return d.fail(ctx, "create device authorization", err)
}

// PendingDeviceAuthorization returns the pending, unexpired request with that user-code hash.
func (d *DB) PendingDeviceAuthorization(ctx context.Context, userCodeHash []byte, now time.Time) (*store.DeviceAuthorization, error) {
	a, err := scanDevice(d.pool.QueryRow(ctx, `SELECT `+deviceColumns+` FROM device_authorizations
		WHERE user_code_hash = $1 AND status = $2 AND expires_at >= $3`, userCodeHash, store.DevicePending, atTime(now)))
	return a, d.fail(ctx, "pending device authorization", err)
}

// DecideDeviceAuthorization is one conditional UPDATE: concurrent decisions
// queue on the row lock, and each after the first re-checks the status, finds
// it decided, and matches nothing.
func (d *DB) DecideDeviceAuthorization(ctx context.Context, userCodeHash []byte, dec store.DeviceDecision, now time.Time) (*store.DeviceAuthorization, error) {
	a, err := scanDevice(d.pool.QueryRow(ctx, `UPDATE device_authorizations
		SET status = $1, subject = $2, auth_time = $3, user_generation = $4
		WHERE user_code_hash = $5 AND status = $6 AND expires_at >= $7 RETURNING `+deviceColumns,
		dec.Status, dec.Subject, nullTime(dec.AuthTime), dec.UserGeneration, userCodeHash, store.DevicePending, atTime(now)))
	return a, d.fail(ctx, "decide device authorization", err)
}

// PollDeviceAuthorization is one UPDATE whose expressions all read the row as
// it was: concurrent polls queue on the row lock, and after one redeems an
// approved request the others re-check the status and match nothing.
func (d *DB) PollDeviceAuthorization(ctx context.Context, deviceCodeHash []byte, clientID string, now time.Time, slowDown time.Duration) (*store.DeviceAuthorization, error) {
	const tooSoon = `(status = 'pending' AND last_poll_at IS NOT NULL AND last_poll_at + make_interval(secs => interval_seconds) > $1)`
	a, err := scanDevice(d.pool.QueryRow(ctx, `UPDATE device_authorizations SET
			status = CASE WHEN status = 'approved' THEN 'redeemed' ELSE status END,
			interval_seconds = CASE WHEN `+tooSoon+` THEN interval_seconds + $2 ELSE interval_seconds END,
			slow_down = `+tooSoon+`,
			last_poll_at = $1
		WHERE device_code_hash = $3 AND client_id = $4 AND status <> 'redeemed' RETURNING `+deviceColumns,
		atTime(now), int32(slowDown/time.Second), deviceCodeHash, clientID))
	return a, d.fail(ctx, "poll device authorization", err)
}

func scanDevice(row pgx.Row) (*store.DeviceAuthorization, error) {
	var (
		a                                      store.DeviceAuthorization
		authTime, lastPoll, expires, createdAt pgtype.Timestamptz
		interval                               int32
	)
	if err := row.Scan(&a.DeviceCodeHash, &a.UserCodeHash, &a.ClientID, &a.Scope, &a.Resources, &a.Status, &a.Subject,
		&authTime, &a.UserGeneration, &interval, &lastPoll, &a.SlowDown, &expires, &createdAt); err != nil {
		return nil, err
	}
	a.Resources = unlist(a.Resources)
	a.Interval = time.Duration(interval) * time.Second
	a.AuthTime, a.LastPollAt = fromTime(authTime), fromTime(lastPoll)
	a.ExpiresAt, a.CreatedAt = fromTime(expires), fromTime(createdAt)
	return &a, nil
}
