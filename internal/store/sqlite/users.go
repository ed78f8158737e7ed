package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/authd/authd/internal/store"
)

const userColumns = `id, username, email, password_hash, disabled, created_at, updated_at`

// CreateUser inserts u; ErrConflict if the id or username exists.
func (d *DB) CreateUser(ctx context.Context, u *store.User) error {
	_, err := d.exec(ctx, `INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.Username, u.Email, u.PasswordHash, u.Disabled, micros(u.CreatedAt), micros(u.UpdatedAt))
	return d.fail(ctx, "create user", err)
}

// User returns the user with that id, or ErrNotFound.
func (d *DB) User(ctx context.Context, id string) (*store.User, error) {
	return d.userWhere(ctx, "user", `id = ?`, id)
}

// UserByUsername returns the user with that username, or ErrNotFound.
func (d *DB) UserByUsername(ctx context.Context, username string) (*store.User, error) {
	return d.userWhere(ctx, "user by username", `username = ?`, username)
}

func (d *DB) userWhere(ctx context.Context, op, where string, arg any) (*store.User, error) {
	row, err := d.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE `+where, arg)
	if err != nil {
		return nil, d.fail(ctx, op, err)
	}
	u, err := scanUser(row)
	if err != nil {
		return nil, d.fail(ctx, op, err)
	}
	return u, nil
}

// ListUsers returns every user ordered by username.
func (d *DB) ListUsers(ctx context.Context) ([]*store.User, error) {
	rows, err := d.query(ctx, `SELECT `+userColumns+` FROM users ORDER BY username`)
	if err != nil {
		return nil, d.fail(ctx, "list users", err)
	}
	defer rows.Close()
	var out []*store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, d.fail(ctx, "list users", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, d.fail(ctx, "list users", err)
	}
	return out, nil
}

// DeleteUser removes a user; ErrNotFound if absent.
func (d *DB) DeleteUser(ctx context.Context, id string) error {
	return d.fail(ctx, "delete user", rowsAffected(d.exec(ctx, `DELETE FROM users WHERE id = ?`, id)))
}

// SetPasswordHash replaces the hash and bumps UpdatedAt; ErrNotFound if absent.
func (d *DB) SetPasswordHash(ctx context.Context, id, hash string, now time.Time) error {
	return d.fail(ctx, "set password hash", rowsAffected(d.exec(ctx,
		`UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?`, hash, micros(now), id)))
}

// SetUserDisabled sets the disabled flag and bumps UpdatedAt; ErrNotFound if absent.
func (d *DB) SetUserDisabled(ctx context.Context, id string, disabled bool, now time.Time) error {
	return d.fail(ctx, "set user disabled", rowsAffected(d.exec(ctx,
		`UPDATE users SET disabled = ?, updated_at = ? WHERE id = ?`, disabled, micros(now), id)))
}

func scanUser(s scanner) (*store.User, error) {
	var (
		u                    store.User
		createdAt, updatedAt sql.NullInt64
	)
	if err := s.Scan(&u.ID, &u.Username, &u.Email, &u.PasswordHash, &u.Disabled, &createdAt, &updatedAt); err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = fromMicros(createdAt), fromMicros(updatedAt)
	return &u, nil
}
