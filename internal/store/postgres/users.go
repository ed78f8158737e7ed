package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/authd/authd/internal/store"
)

const userColumns = `id, username, email, password_hash, disabled, created_at, updated_at,
	generation, email_verified, name, given_name, family_name, phone_number, phone_number_verified, address`

// CreateUser inserts u; ErrConflict if the id or username exists.
func (d *DB) CreateUser(ctx context.Context, u *store.User) error {
	_, err := d.pool.Exec(ctx, `INSERT INTO users (`+userColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		u.ID, u.Username, u.Email, u.PasswordHash, u.Disabled, nullTime(u.CreatedAt), nullTime(u.UpdatedAt),
		u.Generation, u.EmailVerified, u.Name, u.GivenName, u.FamilyName, u.PhoneNumber, u.PhoneNumberVerified, store.EncodeAddress(u.Address))
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

// ChangePassword replaces the hash, moves the generation on and ends the
// user's refresh tokens and other sessions, in one transaction.
func (d *DB) ChangePassword(ctx context.Context, id, hash string, keepSession []byte, now time.Time) (int64, error) {
	var gen int64
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `UPDATE users SET password_hash = $2, updated_at = $3, generation = generation + 1
			WHERE id = $1 RETURNING generation`, id, hash, nullTime(now)).Scan(&gen); err != nil {
			return err // pgx.ErrNoRows: absent
		}
		return endUserTokens(ctx, tx, id, keepSession)
	})
	if err != nil {
		return 0, d.fail(ctx, "change password", err)
	}
	return gen, nil
}

// SetUserDisabled sets the disabled flag; disabling also moves the generation
// on and ends the user's refresh tokens and sessions.
func (d *DB) SetUserDisabled(ctx context.Context, id string, disabled bool, now time.Time) error {
	if !disabled {
		return d.fail(ctx, "set user disabled", affected(d.pool.Exec(ctx,
			`UPDATE users SET disabled = false, updated_at = $2 WHERE id = $1`, id, nullTime(now))))
	}
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		if err := affected(tx.Exec(ctx, `UPDATE users SET disabled = true, updated_at = $2,
			generation = generation + 1 WHERE id = $1`, id, nullTime(now))); err != nil {
			return err
		}
		return endUserTokens(ctx, tx, id, nil)
	})
	return d.fail(ctx, "set user disabled", err)
}

// endUserTokens revokes the user's refresh tokens and deletes their sessions
// but keepSession. Refresh tokens carry the user's generation too, so one a
// concurrent rotation inserts behind this UPDATE's snapshot is refused anyway.
func endUserTokens(ctx context.Context, tx pgx.Tx, id string, keepSession []byte) error {
	if _, err := tx.Exec(ctx, `UPDATE refresh_tokens SET revoked = true WHERE subject = $1 AND NOT revoked`, id); err != nil {
		return err
	}
	if keepSession == nil {
		keepSession = []byte{} // matches no session hash
	}
	_, err := tx.Exec(ctx, `DELETE FROM sessions WHERE subject = $1 AND hash <> $2`, id, keepSession)
	return err
}

// UpdateUserProfile replaces the profile and bumps UpdatedAt; ErrNotFound if absent.
func (d *DB) UpdateUserProfile(ctx context.Context, id string, p store.UserProfile, now time.Time) error {
	return d.fail(ctx, "update user profile", affected(d.pool.Exec(ctx,
		`UPDATE users SET email = $2, email_verified = $3, name = $4, given_name = $5, family_name = $6,
		phone_number = $7, phone_number_verified = $8, address = $9, updated_at = $10 WHERE id = $1`,
		id, p.Email, p.EmailVerified, p.Name, p.GivenName, p.FamilyName,
		p.PhoneNumber, p.PhoneNumberVerified, store.EncodeAddress(p.Address), nullTime(now))))
}

func scanUser(row pgx.Row) (*store.User, error) {
	var (
		u                    store.User
		createdAt, updatedAt pgtype.Timestamptz
		address              string
	)
	if err := row.Scan(&u.ID, &u.Username, &u.Email, &u.PasswordHash, &u.Disabled, &createdAt, &updatedAt,
		&u.Generation, &u.EmailVerified, &u.Name, &u.GivenName, &u.FamilyName, &u.PhoneNumber, &u.PhoneNumberVerified, &address); err != nil {
		return nil, err
	}
	var err error
	if u.Address, err = store.DecodeAddress(address); err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = fromTime(createdAt), fromTime(updatedAt)
	return &u, nil
}

// UserByVerifiedEmail returns the one user whose verified email is email;
// ErrNotFound for none, ErrConflict for several.
func (d *DB) UserByVerifiedEmail(ctx context.Context, email string) (*store.User, error) {
	rows, err := d.pool.Query(ctx, `SELECT `+userColumns+` FROM users WHERE email = $1 AND email_verified LIMIT 2`, email)
	if err != nil {
		return nil, d.fail(ctx, "user by verified email", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*store.User, error) { return scanUser(r) })
	if err != nil {
		return nil, d.fail(ctx, "user by verified email", err)
	}
	switch len(out) {
	case 0:
		return nil, store.ErrNotFound
	case 1:
		return out[0], nil
	}
	return nil, store.ErrConflict
}
