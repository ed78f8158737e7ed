package sqlite

import (
	"context"
	"database/sql"

	"github.com/authd/authd/internal/store"
)

const accessTokenColumns = `hash, client_id, subject, scope, audience, grant_id, issued_at, expires_at, user_generation,
	cnf_jkt, cnf_x5t, act`

// CreateAccessTokens inserts tokens in one transaction: all or none. It returns
// once the commit is durable (synchronous=FULL), so one call per batch pays one
// fsync however many rows it carries.
func (d *DB) CreateAccessTokens(ctx context.Context, tokens []*store.AccessToken) error {
	if len(tokens) == 0 {
		return nil
	}
	err := d.tx(ctx, func(_ *sql.Tx, stmts []*sql.Stmt) error {
		ins := stmts[0]
		for _, t := range tokens {
			aud, err := encodeList(t.Audience)
			if err != nil {
				return err
			}
			if _, err := ins.ExecContext(ctx, t.Hash, t.ClientID, t.Subject, t.Scope, aud, t.GrantID,
				micros(t.IssuedAt), micros(t.ExpiresAt), t.UserGeneration, t.Cnf.JKT, t.Cnf.X5TS256, t.Act); err != nil {
				return err
			}
		}
		return nil
	}, `INSERT INTO access_tokens (`+accessTokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	return d.fail(ctx, "create access tokens", err)
}

// AccessToken returns the token with that hash, or ErrNotFound.
func (d *DB) AccessToken(ctx context.Context, hash []byte) (*store.AccessToken, error) {
	row, err := d.queryRow(ctx, `SELECT `+accessTokenColumns+` FROM access_tokens WHERE hash = ?`, hash)
	if err != nil {
		return nil, d.fail(ctx, "access token", err)
	}
	var (
		t                   store.AccessToken
		aud                 string
		issuedAt, expiresAt sql.NullInt64
	)
	if err := row.Scan(&t.Hash, &t.ClientID, &t.Subject, &t.Scope, &aud, &t.GrantID, &issuedAt, &expiresAt, &t.UserGeneration,
		&t.Cnf.JKT, &t.Cnf.X5TS256, &t.Act); err != nil {
		return nil, d.fail(ctx, "access token", err)
	}
	if t.Audience, err = decodeList(aud); err != nil {
		return nil, d.fail(ctx, "access token", err)
	}
	t.IssuedAt, t.ExpiresAt = fromMicros(issuedAt), fromMicros(expiresAt)
	return &t, nil
}

// DeleteAccessToken removes a token; deleting an absent one is not an error.
func (d *DB) DeleteAccessToken(ctx context.Context, hash []byte) error {
	_, err := d.exec(ctx, `DELETE FROM access_tokens WHERE hash = ?`, hash)
	return d.fail(ctx, "delete access token", err)
}
