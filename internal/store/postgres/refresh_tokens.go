package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/authd/authd/internal/store"
)

// insertColumns are what an insert sets; refreshColumns add what the store
// keeps of the token's use.
const (
	insertColumns = `hash, grant_id, client_id, subject, scope, auth_time, issued_at, expires_at, user_generation,
	cnf_jkt, cnf_x5t, resources`
	refreshColumns = insertColumns + `, used_at, revoked`
)

// CreateRefreshToken inserts t; ErrConflict if its hash exists.
func (d *DB) CreateRefreshToken(ctx context.Context, t *store.RefreshToken) error {
	_, err := d.pool.Exec(ctx, `INSERT INTO refresh_tokens (`+insertColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		t.Hash, t.GrantID, t.ClientID, t.Subject, t.Scope,
		nullTime(t.AuthTime), nullTime(t.IssuedAt), nullTime(t.ExpiresAt), t.UserGeneration, t.Cnf.JKT, t.Cnf.X5TS256,
		list(t.Resources))
	return d.fail(ctx, "create refresh token", err)
}

// rotateRefresh marks the old token used and inserts its successor in one
// statement, so one round trip and no explicit transaction. The INSERT reads
// from the UPDATE: if the UPDATE matched nothing (used, revoked or absent),
// nothing is inserted; if the INSERT fails, the UPDATE is undone with it.
const rotateRefresh = `WITH old AS (
	UPDATE refresh_tokens SET used_at = $2
	WHERE hash = $1 AND used_at IS NULL AND NOT revoked
	RETURNING ` + refreshColumns + `
), next AS (
	INSERT INTO refresh_tokens (` + insertColumns + `)
	SELECT $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14 FROM old
)
SELECT ` + refreshColumns + ` FROM old`

// RotateRefreshToken marks oldHash used and inserts next atomically. A token
// that is used or whose family was revoked yields ErrAlreadyUsed with its
// record, and nothing is inserted.
func (d *DB) RotateRefreshToken(ctx context.Context, oldHash []byte, next *store.RefreshToken, now time.Time) (*store.RefreshToken, error) {
	old, err := scanRefresh(d.pool.QueryRow(ctx, rotateRefresh, oldHash, atTime(now),
		next.Hash, next.GrantID, next.ClientID, next.Subject, next.Scope,
		nullTime(next.AuthTime), nullTime(next.IssuedAt), nullTime(next.ExpiresAt), next.UserGeneration,
		next.Cnf.JKT, next.Cnf.X5TS256, list(next.Resources)))
	if err == nil {
		return old, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return nil, d.fail(ctx, "rotate refresh token", err)
	}
	// Absent, or used/revoked: neither ever reverts, so this read needs no lock.
	old, err = scanRefresh(d.pool.QueryRow(ctx, `SELECT `+refreshColumns+` FROM refresh_tokens WHERE hash = $1`, oldHash))
	if err != nil {
		return nil, d.fail(ctx, "rotate refresh token", err)
	}
	return old, store.ErrAlreadyUsed
}

// RefreshToken returns the token if it is neither used nor revoked, else ErrNotFound.
func (d *DB) RefreshToken(ctx context.Context, hash []byte) (*store.RefreshToken, error) {
	t, err := scanRefresh(d.pool.QueryRow(ctx, `SELECT `+refreshColumns+` FROM refresh_tokens
		WHERE hash = $1 AND used_at IS NULL AND NOT revoked`, hash))
	if err != nil {
		return nil, d.fail(ctx, "refresh token", err)
	}
	return t, nil
}

// RevokeGrant marks every refresh token of the family revoked (kept, so a later
// presentation is recognised as reuse) and deletes the grant's opaque access
// tokens. The empty grant id names no grant: client_credentials tokens carry it.
func (d *DB) RevokeGrant(ctx context.Context, grantID string) error {
	if grantID == "" {
		return nil
	}
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		// A rotation in flight holds the lock on its old token and inserts a
		// successor this UPDATE's snapshot cannot see. The UPDATE waits for that
		// lock, so once it returns the successor is committed; repeat, each time
		// with a fresh snapshot, until a pass finds nothing left to revoke.
		for {
			tag, err := tx.Exec(ctx, `UPDATE refresh_tokens SET revoked = true WHERE grant_id = $1 AND NOT revoked`, grantID)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				break
			}
		}
		// The grant_id <> '' term lets the planner use the partial index.
		_, err := tx.Exec(ctx, `DELETE FROM access_tokens WHERE grant_id = $1 AND grant_id <> ''`, grantID)
		return err
	})
	return d.fail(ctx, "revoke grant", err)
}

// DeleteRefreshToken removes one refresh token; absent is not an error.
func (d *DB) DeleteRefreshToken(ctx context.Context, hash []byte) error {
	_, err := d.pool.Exec(ctx, `DELETE FROM refresh_tokens WHERE hash = $1`, hash)
	return d.fail(ctx, "delete refresh token", err)
}

func scanRefresh(row pgx.Row) (*store.RefreshToken, error) {
	var (
		t                                     store.RefreshToken
		authTime, issuedAt, expiresAt, usedAt pgtype.Timestamptz
	)
	if err := row.Scan(&t.Hash, &t.GrantID, &t.ClientID, &t.Subject, &t.Scope, &authTime, &issuedAt, &expiresAt,
		&t.UserGeneration, &t.Cnf.JKT, &t.Cnf.X5TS256, &t.Resources, &usedAt, &t.Revoked); err != nil {
		return nil, err
	}
	t.Resources = unlist(t.Resources)
	t.AuthTime, t.IssuedAt, t.ExpiresAt, t.UsedAt = fromTime(authTime), fromTime(issuedAt), fromTime(expiresAt), fromTime(usedAt)
	return &t, nil
}
