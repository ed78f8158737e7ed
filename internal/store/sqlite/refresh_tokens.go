package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/authd/authd/internal/store"
)

// insertColumns are what an insert sets; refreshColumns add what the store
// keeps of the token's use.
const (
	insertColumns = `hash, grant_id, client_id, subject, scope, auth_time, issued_at, expires_at, user_generation,
	cnf_jkt, cnf_x5t, resources`
	refreshColumns = insertColumns + `, used_at, revoked`
)

const insertRefresh = `INSERT INTO refresh_tokens (` + insertColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

func refreshArgs(t *store.RefreshToken) []any {
	resources, _ := encodeList(t.Resources) // a []string always encodes
	return []any{t.Hash, t.GrantID, t.ClientID, t.Subject, t.Scope,
		micros(t.AuthTime), micros(t.IssuedAt), micros(t.ExpiresAt), t.UserGeneration, t.Cnf.JKT, t.Cnf.X5TS256, resources}
}

// CreateRefreshToken inserts t; ErrConflict if its hash exists.
func (d *DB) CreateRefreshToken(ctx context.Context, t *store.RefreshToken) error {
	_, err := d.exec(ctx, insertRefresh, refreshArgs(t)...)
	return d.fail(ctx, "create refresh token", err)
}

// RotateRefreshToken marks oldHash used and inserts next in one transaction. A
// token that is used or whose family was revoked yields ErrAlreadyUsed with its
// record, and nothing is inserted.
func (d *DB) RotateRefreshToken(ctx context.Context, oldHash []byte, next *store.RefreshToken, now time.Time) (*store.RefreshToken, error) {
	var old *store.RefreshToken
	err := d.tx(ctx, func(_ *sql.Tx, stmts []*sql.Stmt) error {
		mark, get, ins := stmts[0], stmts[1], stmts[2]
		// UnixMicro, not micros: a zero now must still mark the token used.
		var err error
		old, err = scanRefresh(mark.QueryRowContext(ctx, now.UnixMicro(), oldHash))
		if errors.Is(err, sql.ErrNoRows) {
			if old, err = scanRefresh(get.QueryRowContext(ctx, oldHash)); err != nil {
				return err // sql.ErrNoRows: absent
			}
			return store.ErrAlreadyUsed // rolls back, though nothing changed
		}
		if err != nil {
			return err
		}
		_, err = ins.ExecContext(ctx, refreshArgs(next)...)
		return err
	},
		`UPDATE refresh_tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL AND revoked = 0 RETURNING `+refreshColumns,
		`SELECT `+refreshColumns+` FROM refresh_tokens WHERE hash = ?`,
		insertRefresh,
	)
	switch {
	case errors.Is(err, store.ErrAlreadyUsed):
		return old, store.ErrAlreadyUsed
	case err != nil:
		return nil, d.fail(ctx, "rotate refresh token", err)
	}
	return old, nil
}

// RefreshToken returns the token if it is neither used nor revoked, else ErrNotFound.
func (d *DB) RefreshToken(ctx context.Context, hash []byte) (*store.RefreshToken, error) {
	row, err := d.queryRow(ctx, `SELECT `+refreshColumns+` FROM refresh_tokens
		WHERE hash = ? AND used_at IS NULL AND revoked = 0`, hash)
	if err != nil {
		return nil, d.fail(ctx, "refresh token", err)
	}
	t, err := scanRefresh(row)
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
	err := d.tx(ctx, func(tx *sql.Tx, _ []*sql.Stmt) error {
		if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET revoked = 1 WHERE grant_id = ?`, grantID); err != nil {
			return err
		}
		// The grant_id <> '' term lets SQLite use the partial index.
		_, err := tx.ExecContext(ctx, `DELETE FROM access_tokens WHERE grant_id = ? AND grant_id <> ''`, grantID)
		return err
	})
	return d.fail(ctx, "revoke grant", err)
}

// DeleteRefreshToken removes one refresh token; absent is not an error.
func (d *DB) DeleteRefreshToken(ctx context.Context, hash []byte) error {
	_, err := d.exec(ctx, `DELETE FROM refresh_tokens WHERE hash = ?`, hash)
	return d.fail(ctx, "delete refresh token", err)
}

func scanRefresh(s scanner) (*store.RefreshToken, error) {
	var (
		t                                     store.RefreshToken
		authTime, issuedAt, expiresAt, usedAt sql.NullInt64
		resources                             string
	)
	if err := s.Scan(&t.Hash, &t.GrantID, &t.ClientID, &t.Subject, &t.Scope, &authTime, &issuedAt, &expiresAt,
		&t.UserGeneration, &t.Cnf.JKT, &t.Cnf.X5TS256, &resources, &usedAt, &t.Revoked); err != nil {
		return nil, err
	}
	var err error
	if t.Resources, err = decodeList(resources); err != nil {
		return nil, err
	}
	t.AuthTime, t.IssuedAt, t.ExpiresAt = fromMicros(authTime), fromMicros(issuedAt), fromMicros(expiresAt)
	// used_at is written with UnixMicro, so even a zero "now" marks it; only NULL is unused.
	if usedAt.Valid {
		t.UsedAt = time.UnixMicro(usedAt.Int64).UTC()
	}
	return &t, nil
}
