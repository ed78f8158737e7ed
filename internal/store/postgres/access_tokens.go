package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/authd/authd/internal/store"
)

const accessTokenColumns = `hash, client_id, subject, scope, audience, grant_id, issued_at, expires_at, user_generation,
	cnf_jkt, cnf_x5t, act`

// accessTokenCopyColumns must list the columns of accessTokenColumns in order.
func accessTokenCopyColumns() []string {
	return []string{"hash", "client_id", "subject", "scope", "audience", "grant_id", "issued_at", "expires_at", "user_generation",
		"cnf_jkt", "cnf_x5t", "act"}
}

func accessTokenRow(t *store.AccessToken) []any {
	return []any{t.Hash, t.ClientID, t.Subject, t.Scope, list(t.Audience), t.GrantID,
		nullTime(t.IssuedAt), nullTime(t.ExpiresAt), t.UserGeneration, t.Cnf.JKT, t.Cnf.X5TS256, t.Act}
}

// CreateAccessTokens inserts tokens, all or none, and returns once the commit is
// durable. One row is a plain INSERT (a cached prepared statement, one round
// trip); more go through COPY, a single statement and so atomic, which a
// duplicate aborts entirely with a unique violation.
func (d *DB) CreateAccessTokens(ctx context.Context, tokens []*store.AccessToken) error {
	switch len(tokens) {
	case 0:
		return nil
	case 1:
		_, err := d.pool.Exec(ctx, `INSERT INTO access_tokens (`+accessTokenColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`, accessTokenRow(tokens[0])...)
		return d.fail(ctx, "create access tokens", err)
	}
	_, err := d.pool.CopyFrom(ctx, pgx.Identifier{"access_tokens"}, accessTokenCopyColumns(),
		pgx.CopyFromSlice(len(tokens), func(i int) ([]any, error) { return accessTokenRow(tokens[i]), nil }))
	return d.fail(ctx, "create access tokens", err)
}

// AccessToken returns the token with that hash, or ErrNotFound.
func (d *DB) AccessToken(ctx context.Context, hash []byte) (*store.AccessToken, error) {
	var (
		t                   store.AccessToken
		issuedAt, expiresAt pgtype.Timestamptz
	)
	err := d.pool.QueryRow(ctx, `SELECT `+accessTokenColumns+` FROM access_tokens WHERE hash = $1`, hash).
		Scan(&t.Hash, &t.ClientID, &t.Subject, &t.Scope, &t.Audience, &t.GrantID, &issuedAt, &expiresAt, &t.UserGeneration,
			&t.Cnf.JKT, &t.Cnf.X5TS256, &t.Act)
	if err != nil {
		return nil, d.fail(ctx, "access token", err)
	}
	t.Audience = unlist(t.Audience)
	t.IssuedAt, t.ExpiresAt = fromTime(issuedAt), fromTime(expiresAt)
	return &t, nil
}

// DeleteAccessToken removes a token; deleting an absent one is not an error.
func (d *DB) DeleteAccessToken(ctx context.Context, hash []byte) error {
	_, err := d.pool.Exec(ctx, `DELETE FROM access_tokens WHERE hash = $1`, hash)
	return d.fail(ctx, "delete access token", err)
}
