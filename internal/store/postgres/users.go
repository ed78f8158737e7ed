package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/authd/authd/internal/store"
)

const userColumns = `id, username, email, password_hash, disabled, created_at, updated_at`

// CreateUser inserts u; ErrConflict if the id or username exists.
func (d *DB) CreateUser(ctx context.Context, u *store.User) error {
	_, err := d.pool.Exec(ctx, `INSERT INTO users (`+userColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		u.ID, u.Username, u.Email, u.PasswordHash, u.Disabled, nullTime(u.CreatedAt), nullTime(u.UpdatedAt))
	return d.fail(ctx, "create user", err)
}

// User returns the user with that id, or ErrNotFound.
func (d *DB) User(ctx context.Context, id string) (*store.User, error) {
	u, err := scanUser(d.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if err != nil {
		return nil, d.fail(ctx, "user", err)
	}
	return u, nil
}

// UserByUsername returns the user with that username, or ErrNotFound.
func (d *DB) UserByUsername(ctx context.Context, username string) (*store.User, error) {
	u, err := scanUser(d.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE username = $1`, username))
	if err != nil {
		return nil, d.fail(ctx, "user by username", err)
	}
	return u, nil
}

// ListUsers returns every user ordered by username (byte order).
func (d *DB) ListUsers(ctx context.Context) ([]*store.User, error) {
	rows, err := d.pool.Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY username`)
	if err != nil {
		return nil, d.fail(ctx, "list users", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*store.User, error) { return scanUser(r) })
	if err != nil {
		return nil, d.fail(ctx, "list users", err)
	}
	return out, nil
}

// DeleteUser removes a user; ErrNotFound if absent.
func (d *DB) DeleteUser(ctx context.Context, id string) error {
	return d.fail(ctx, "delete user", affected(d.pool.Exec(ctx, `DELETE FROM users WHERE id = $1`, id)))
}

// SetPasswordHash replaces the hash and bumps UpdatedAt; ErrNotFound if absent.
func (d *DB) SetPasswordHash(ctx context.Context, id, hash string, now time.Time) error {
	return d.fail(ctx, "set password hash", affected(d.pool.Exec(ctx,
		`UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1`, id, hash, nullTime(now))))
}

// SetUserDisabled sets the disabled flag and bumps UpdatedAt; ErrNotFound if absent.
func (d *DB) SetUserDisabled(ctx context.Context, id string, disabled bool, now time.Time) error {
	return d.fail(ctx, "set user disabled", affected(d.pool.Exec(ctx,
		`UPDATE users SET disabled = $2, updated_at = $3 WHERE id = $1`, id, disabled, nullTime(now))))
}

func scanUser(row pgx.Row) (*store.User, error) {
	var (
		u                    store.User
		createdAt, updatedAt pgtype.Timestamptz
	)
	if err := row.Scan(&u.ID, &u.Username, &u.Email, &u.PasswordHash, &u.Disabled, &createdAt, &updatedAt); err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = fromTime(createdAt), fromTime(updatedAt)
	return &u, nil
}
