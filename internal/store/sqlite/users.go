package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/authd/authd/internal/store"
)

const userColumns = `id, username, email, password_hash, disabled, created_at, updated_at,
	generation, email_verified, name, given_name, family_name, phone_number, phone_number_verified, address`

// CreateUser inserts u; ErrConflict if the id or username exists.
func (d *DB) CreateUser(ctx context.Context, u *store.User) error {
	_, err := d.exec(ctx, `INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.Username, u.Email, u.PasswordHash, u.Disabled, micros(u.CreatedAt), micros(u.UpdatedAt),
		u.Generation, u.EmailVerified, u.Name, u.GivenName, u.FamilyName, u.PhoneNumber, u.PhoneNumberVerified, store.EncodeAddress(u.Address))
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

// ChangePassword replaces the hash, moves the generation on and ends the
// user's refresh tokens and other sessions, in one transaction.
func (d *DB) ChangePassword(ctx context.Context, id, hash string, keepSession []byte, now time.Time) (int64, error) {
	var gen int64
	err := d.tx(ctx, func(_ *sql.Tx, stmts []*sql.Stmt) error {
		if err := stmts[0].QueryRowContext(ctx, hash, micros(now), id).Scan(&gen); err != nil {
			return err // sql.ErrNoRows: absent
		}
		return endUserTokens(ctx, stmts[1:], id, keepSession)
	},
		`UPDATE users SET password_hash = ?, updated_at = ?, generation = generation + 1 WHERE id = ? RETURNING generation`,
		revokeUserRefresh, deleteUserSessions)
	if err != nil {
		return 0, d.fail(ctx, "change password", err)
	}
	return gen, nil
}

// SetUserDisabled sets the disabled flag; disabling also moves the generation
// on and ends the user's refresh tokens and sessions.
func (d *DB) SetUserDisabled(ctx context.Context, id string, disabled bool, now time.Time) error {
	if !disabled {
		return d.fail(ctx, "set user disabled", rowsAffected(d.exec(ctx,
			`UPDATE users SET disabled = 0, updated_at = ? WHERE id = ?`, micros(now), id)))
	}
	err := d.tx(ctx, func(_ *sql.Tx, stmts []*sql.Stmt) error {
		if err := rowsAffected(stmts[0].ExecContext(ctx, micros(now), id)); err != nil {
			return err
		}
		return endUserTokens(ctx, stmts[1:], id, nil)
	},
		`UPDATE users SET disabled = 1, updated_at = ?, generation = generation + 1 WHERE id = ?`,
		revokeUserRefresh, deleteUserSessions)
	return d.fail(ctx, "set user disabled", err)
}

const (
	revokeUserRefresh  = `UPDATE refresh_tokens SET revoked = 1 WHERE subject = ? AND revoked = 0`
	deleteUserSessions = `DELETE FROM sessions WHERE subject = ? AND hash <> ?`
)

// endUserTokens runs revokeUserRefresh and deleteUserSessions. The single
// writer serialises it with every rotation, so nothing slips between.
func endUserTokens(ctx context.Context, stmts []*sql.Stmt, id string, keepSession []byte) error {
	if _, err := stmts[0].ExecContext(ctx, id); err != nil {
		return err
	}
	if keepSession == nil {
		keepSession = []byte{} // matches no session hash
	}
	_, err := stmts[1].ExecContext(ctx, id, keepSession)
	return err
}

// UpdateUserProfile replaces the profile and bumps UpdatedAt; ErrNotFound if absent.
func (d *DB) UpdateUserProfile(ctx context.Context, id string, p store.UserProfile, now time.Time) error {
	return d.fail(ctx, "update user profile", rowsAffected(d.exec(ctx,
		`UPDATE users SET email = ?, email_verified = ?, name = ?, given_name = ?, family_name = ?,
		phone_number = ?, phone_number_verified = ?, address = ?, updated_at = ?
		WHERE id = ?`, p.Email, p.EmailVerified, p.Name, p.GivenName, p.FamilyName,
		p.PhoneNumber, p.PhoneNumberVerified, store.EncodeAddress(p.Address), micros(now), id)))
}

func scanUser(s scanner) (*store.User, error) {
	var (
		u                    store.User
		createdAt, updatedAt sql.NullInt64
		address              string
	)
	if err := s.Scan(&u.ID, &u.Username, &u.Email, &u.PasswordHash, &u.Disabled, &createdAt, &updatedAt,
		&u.Generation, &u.EmailVerified, &u.Name, &u.GivenName, &u.FamilyName, &u.PhoneNumber, &u.PhoneNumberVerified, &address); err != nil {
		return nil, err
	}
	var err error
	if u.Address, err = store.DecodeAddress(address); err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = fromMicros(createdAt), fromMicros(updatedAt)
	return &u, nil
}

// UserByVerifiedEmail returns the one user whose verified email is email;
// ErrNotFound for none, ErrConflict for several.
func (d *DB) UserByVerifiedEmail(ctx context.Context, email string) (*store.User, error) {
	rows, err := d.query(ctx, `SELECT `+userColumns+` FROM users WHERE email = ? AND email_verified = 1 LIMIT 2`, email)
	if err != nil {
		return nil, d.fail(ctx, "user by verified email", err)
	}
	defer rows.Close()
	var out []*store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, d.fail(ctx, "user by verified email", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, d.fail(ctx, "user by verified email", err)
	}
	return oneUser(out)
}

func oneUser(us []*store.User) (*store.User, error) {
	switch len(us) {
	case 0:
		return nil, store.ErrNotFound
	case 1:
		return us[0], nil
	}
	return nil, store.ErrConflict
}
