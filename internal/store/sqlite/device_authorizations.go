package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/authd/authd/internal/store"
)

const deviceColumns = `device_code_hash, user_code_hash, client_id, scope, resources, status, subject,
	auth_time, user_generation, interval_seconds, last_poll_at, slow_down, expires_at, created_at`

// CreateDeviceAuthorization inserts a as pending; ErrConflict if either hash exists.
func (d *DB) CreateDeviceAuthorization(ctx context.Context, a *store.DeviceAuthorization) error {
	resources, err := encodeList(a.Resources)
	if err != nil {
		return d.fail(ctx, "create device authorization", err)
	}
	_, err = d.exec(ctx, `INSERT INTO device_authorizations (device_code_hash, user_code_hash, client_id, scope,
		resources, status, interval_seconds, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.DeviceCodeHash, a.UserCodeHash, a.ClientID, a.Scope, resources, store.DevicePending,
		int64(a.Interval/time.Second), a.ExpiresAt.UnixMicro(), a.CreatedAt.UnixMicro())
	return d.fail(ctx, "create device authorization", err)
}

// PendingDeviceAuthorization returns the pending, unexpired request with that user-code hash.
func (d *DB) PendingDeviceAuthorization(ctx context.Context, userCodeHash []byte, now time.Time) (*store.DeviceAuthorization, error) {
	row, err := d.queryRow(ctx, `SELECT `+deviceColumns+` FROM device_authorizations
		WHERE user_code_hash = ? AND status = ? AND expires_at >= ?`, userCodeHash, store.DevicePending, now.UnixMicro())
	if err != nil {
		return nil, d.fail(ctx, "pending device authorization", err)
	}
	a, err := scanDevice(row)
	return a, d.fail(ctx, "pending device authorization", err)
}

// DecideDeviceAuthorization is one conditional UPDATE: the single writer
// makes the pending check and the decision one step, so one decision wins.
func (d *DB) DecideDeviceAuthorization(ctx context.Context, userCodeHash []byte, dec store.DeviceDecision, now time.Time) (*store.DeviceAuthorization, error) {
	s, err := d.stmt(ctx, d.w, `UPDATE device_authorizations SET status = ?, subject = ?, auth_time = ?, user_generation = ?
		WHERE user_code_hash = ? AND status = ? AND expires_at >= ? RETURNING `+deviceColumns)
	if err != nil {
		return nil, d.fail(ctx, "decide device authorization", err)
	}
	a, err := scanDevice(s.QueryRowContext(ctx, dec.Status, dec.Subject, micros(dec.AuthTime), dec.UserGeneration,
		userCodeHash, store.DevicePending, now.UnixMicro()))
	return a, d.fail(ctx, "decide device authorization", err)
}

// PollDeviceAuthorization is one UPDATE whose expressions all read the row
// as it was: the single writer makes the redemption and the interval check
// one step, so of concurrent polls of an approved request one redeems it and
// the others find it redeemed and match nothing.
func (d *DB) PollDeviceAuthorization(ctx context.Context, deviceCodeHash []byte, clientID string, now time.Time, slowDown time.Duration) (*store.DeviceAuthorization, error) {
	const tooSoon = `(status = 'pending' AND last_poll_at IS NOT NULL AND last_poll_at + interval_seconds * 1000000 > ?1)`
	s, err := d.stmt(ctx, d.w, `UPDATE device_authorizations SET
			status = CASE WHEN status = 'approved' THEN 'redeemed' ELSE status END,
			interval_seconds = CASE WHEN `+tooSoon+` THEN interval_seconds + ?2 ELSE interval_seconds END,
			slow_down = `+tooSoon+`,
			last_poll_at = ?1
		WHERE device_code_hash = ?3 AND client_id = ?4 AND status <> 'redeemed' RETURNING `+deviceColumns)
	if err != nil {
		return nil, d.fail(ctx, "poll device authorization", err)
	}
	a, err := scanDevice(s.QueryRowContext(ctx, now.UnixMicro(), int64(slowDown/time.Second), deviceCodeHash, clientID))
	return a, d.fail(ctx, "poll device authorization", err)
}

func scanDevice(s scanner) (*store.DeviceAuthorization, error) {
	var (
		a                                      store.DeviceAuthorization
		resources                              string
		authTime, lastPoll, expires, createdAt sql.NullInt64
		interval                               int64
	)
	if err := s.Scan(&a.DeviceCodeHash, &a.UserCodeHash, &a.ClientID, &a.Scope, &resources, &a.Status, &a.Subject,
		&authTime, &a.UserGeneration, &interval, &lastPoll, &a.SlowDown, &expires, &createdAt); err != nil {
		return nil, err
	}
	var err error
	if a.Resources, err = decodeList(resources); err != nil {
		return nil, err
	}
	a.Interval = time.Duration(interval) * time.Second
	a.AuthTime, a.LastPollAt = fromMicros(authTime), fromMicros(lastPoll)
	a.ExpiresAt, a.CreatedAt = fromMicros(expires), fromMicros(createdAt)
	return &a, nil
}
