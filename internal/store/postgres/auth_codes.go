package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/authd/authd/internal/store"
)

const authCodeColumns = `hash, client_id, redirect_uri, subject, scope, nonce, code_challenge,
	auth_time, grant_id, expires_at, user_generation, dpop_jkt, resources, sid`

// CreateAuthCode inserts c; ErrConflict if its hash exists.
func (d *DB) CreateAuthCode(ctx context.Context, c *store.AuthCode) error {
	_, err := d.pool.Exec(ctx, `INSERT INTO auth_codes (`+authCodeColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		c.Hash, c.ClientID, c.RedirectURI, c.Subject, c.Scope, c.Nonce, c.CodeChallenge,
		nullTime(c.AuthTime), c.GrantID, nullTime(c.ExpiresAt), c.UserGeneration, c.DPoPJKT, list(c.Resources), c.SID)
	return d.fail(ctx, "create auth code", err)
}

// RedeemAuthCode marks the code used and returns it. The conditional UPDATE is
// the atomic step: concurrent redemptions queue on the row lock, and each one
// after the first re-checks used_at, finds it set, and matches nothing.
func (d *DB) RedeemAuthCode(ctx context.Context, hash []byte, now time.Time) (*store.AuthCode, error) {
	c, err := scanAuthCode(d.pool.QueryRow(ctx, `UPDATE auth_codes SET used_at = $2
		WHERE hash = $1 AND used_at IS NULL RETURNING `+authCodeColumns, hash, atTime(now)))
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return nil, d.fail(ctx, "redeem auth code", err)
	}
	// Absent or used before; a used code never becomes unused, so this read
	// needs no lock.
	c, err = scanAuthCode(d.pool.QueryRow(ctx, `SELECT `+authCodeColumns+` FROM auth_codes WHERE hash = $1`, hash))
	if err != nil {
		return nil, d.fail(ctx, "redeem auth code", err)
	}
	return c, store.ErrAlreadyUsed
}

func scanAuthCode(row pgx.Row) (*store.AuthCode, error) {
	var (
		c                   store.AuthCode
		authTime, expiresAt pgtype.Timestamptz
	)
	if err := row.Scan(&c.Hash, &c.ClientID, &c.RedirectURI, &c.Subject, &c.Scope, &c.Nonce, &c.CodeChallenge,
		&authTime, &c.GrantID, &expiresAt, &c.UserGeneration, &c.DPoPJKT, &c.Resources, &c.SID); err != nil {
		return nil, err
	}
	c.Resources = unlist(c.Resources)
	c.AuthTime, c.ExpiresAt = fromTime(authTime), fromTime(expiresAt)
	return &c, nil
}
