package postgres

import (
	"context"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/authd/authd/internal/store"
)

// CreateSession inserts s; ErrConflict if its hash exists.
func (d *DB) CreateSession(ctx context.Context, s *store.Session) error {
	_, err := d.pool.Exec(ctx, `INSERT INTO sessions (hash, subject, auth_time, expires_at) VALUES ($1, $2, $3, $4)`,
		s.Hash, s.Subject, nullTime(s.AuthTime), nullTime(s.ExpiresAt))
	return d.fail(ctx, "create session", err)
}

// Session returns the session, or ErrNotFound.
func (d *DB) Session(ctx context.Context, hash []byte) (*store.Session, error) {
	var (
		s                   store.Session
		authTime, expiresAt pgtype.Timestamptz
	)
	err := d.pool.QueryRow(ctx, `SELECT hash, subject, auth_time, expires_at FROM sessions WHERE hash = $1`, hash).
		Scan(&s.Hash, &s.Subject, &authTime, &expiresAt)
	if err != nil {
		return nil, d.fail(ctx, "session", err)
	}
	s.AuthTime, s.ExpiresAt = fromTime(authTime), fromTime(expiresAt)
	return &s, nil
}

// DeleteSession removes it; absent is not an error.
func (d *DB) DeleteSession(ctx context.Context, hash []byte) error {
	_, err := d.pool.Exec(ctx, `DELETE FROM sessions WHERE hash = $1`, hash)
	return d.fail(ctx, "delete session", err)
}

// DeleteUserSessions deletes every session of the user.
func (d *DB) DeleteUserSessions(ctx context.Context, id string) error {
	_, err := d.pool.Exec(ctx, `DELETE FROM sessions WHERE subject = $1`, id)
	return d.fail(ctx, "delete user sessions", err)
}
