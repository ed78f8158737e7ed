package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/authd/authd/internal/store"
)

const authCodeColumns = `hash, client_id, redirect_uri, subject, scope, nonce, code_challenge,
	auth_time, grant_id, expires_at, user_generation, dpop_jkt, resources, sid`

// CreateAuthCode inserts c; ErrConflict if its hash exists.
func (d *DB) CreateAuthCode(ctx context.Context, c *store.AuthCode) error {
	resources, err := encodeList(c.Resources)
	if err != nil {
		return d.fail(ctx, "create auth code", err)
	}
	_, err = d.exec(ctx, `INSERT INTO auth_codes (`+authCodeColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.Hash, c.ClientID, c.RedirectURI, c.Subject, c.Scope, c.Nonce, c.CodeChallenge,
		micros(c.AuthTime), c.GrantID, micros(c.ExpiresAt), c.UserGeneration, c.DPoPJKT, resources, c.SID)
	return d.fail(ctx, "create auth code", err)
}

// RedeemAuthCode marks the code used and returns it. The conditional UPDATE is
// the atomic step: of concurrent redemptions only one finds used_at NULL.
func (d *DB) RedeemAuthCode(ctx context.Context, hash []byte, now time.Time) (*store.AuthCode, error) {
	// used_at is only ever tested for NULL, so a zero now still marks the code
	// used (UnixMicro, not micros, which would store NULL).
	s, err := d.stmt(ctx, d.w, `UPDATE auth_codes SET used_at = ? WHERE hash = ? AND used_at IS NULL
		RETURNING `+authCodeColumns)
	if err != nil {
		return nil, d.fail(ctx, "redeem auth code", err)
	}
	c, err := scanAuthCode(s.QueryRowContext(ctx, now.UnixMicro(), hash))
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, d.fail(ctx, "redeem auth code", err)
	}
	// Absent or used before; a used row never becomes unused, so reading it
	// outside the update's transaction is safe.
	row, err := d.queryRow(ctx, `SELECT `+authCodeColumns+` FROM auth_codes WHERE hash = ?`, hash)
	if err != nil {
		return nil, d.fail(ctx, "redeem auth code", err)
	}
	if c, err = scanAuthCode(row); err != nil {
		return nil, d.fail(ctx, "redeem auth code", err)
	}
	return c, store.ErrAlreadyUsed
}

func scanAuthCode(s scanner) (*store.AuthCode, error) {
	var (
		c                   store.AuthCode
		authTime, expiresAt sql.NullInt64
		resources           string
	)
	if err := s.Scan(&c.Hash, &c.ClientID, &c.RedirectURI, &c.Subject, &c.Scope, &c.Nonce, &c.CodeChallenge,
		&authTime, &c.GrantID, &expiresAt, &c.UserGeneration, &c.DPoPJKT, &resources, &c.SID); err != nil {
		return nil, err
	}
	var err error
	if c.Resources, err = decodeList(resources); err != nil {
		return nil, err
	}
	c.AuthTime, c.ExpiresAt = fromMicros(authTime), fromMicros(expiresAt)
	return &c, nil
}
