package sqlite

import (
	"context"
	"database/sql"

	"github.com/authd/authd/internal/store"
)

// CreateSession inserts s; ErrConflict if its hash exists.
func (d *DB) CreateSession(ctx context.Context, s *store.Session) error {
	_, err := d.exec(ctx, `INSERT INTO sessions (hash, subject, auth_time, expires_at) VALUES (?, ?, ?, ?)`,
		s.Hash, s.Subject, micros(s.AuthTime), micros(s.ExpiresAt))
	return d.fail(ctx, "create session", err)
}

// Session returns the session, or ErrNotFound.
func (d *DB) Session(ctx context.Context, hash []byte) (*store.Session, error) {
	row, err := d.queryRow(ctx, `SELECT hash, subject, auth_time, expires_at FROM sessions WHERE hash = ?`, hash)
	if err != nil {
		return nil, d.fail(ctx, "session", err)
	}
	var (
		s                   store.Session
		authTime, expiresAt sql.NullInt64
	)
	if err := row.Scan(&s.Hash, &s.Subject, &authTime, &expiresAt); err != nil {
		return nil, d.fail(ctx, "session", err)
	}
	s.AuthTime, s.ExpiresAt = fromMicros(authTime), fromMicros(expiresAt)
	return &s, nil
}

// DeleteSession removes it; absent is not an error.
func (d *DB) DeleteSession(ctx context.Context, hash []byte) error {
	_, err := d.exec(ctx, `DELETE FROM sessions WHERE hash = ?`, hash)
	return d.fail(ctx, "delete session", err)
}

// DeleteUserSessions deletes every session of the user.
func (d *DB) DeleteUserSessions(ctx context.Context, id string) error {
	_, err := d.exec(ctx, `DELETE FROM sessions WHERE subject = ?`, id)
	return d.fail(ctx, "delete user sessions", err)
}
