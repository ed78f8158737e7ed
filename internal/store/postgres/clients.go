package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/authd/authd/internal/oauth"
)

const clientColumns = `id, secret_hash, name, grant_types, redirect_uris, scopes,
	token_endpoint_auth_method, access_token_format, access_token_ttl_ns, first_party,
	created_at, updated_at, post_logout_redirect_uris`

// CreateClient inserts c; ErrConflict if c.ID exists.
func (d *DB) CreateClient(ctx context.Context, c *oauth.Client) error {
	_, err := d.pool.Exec(ctx, `INSERT INTO clients (`+clientColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		c.ID, c.SecretHash, c.Name, list(c.GrantTypes), list(c.RedirectURIs), list(c.Scopes),
		c.TokenEndpointAuthMethod, c.AccessTokenFormat, int64(c.AccessTokenTTL), c.FirstParty,
		nullTime(c.CreatedAt), nullTime(c.UpdatedAt), list(c.PostLogoutRedirectURIs))
	return d.fail(ctx, "create client", err)
}

// Client returns the client with that id, or ErrNotFound.
func (d *DB) Client(ctx context.Context, id string) (*oauth.Client, error) {
	c, err := scanClient(d.pool.QueryRow(ctx, `SELECT `+clientColumns+` FROM clients WHERE id = $1`, id))
	if err != nil {
		return nil, d.fail(ctx, "client", err)
	}
	return c, nil
}

// ListClients returns every client ordered by id (byte order).
func (d *DB) ListClients(ctx context.Context) ([]*oauth.Client, error) {
	rows, err := d.pool.Query(ctx, `SELECT `+clientColumns+` FROM clients ORDER BY id`)
	if err != nil {
		return nil, d.fail(ctx, "list clients", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*oauth.Client, error) { return scanClient(r) })
	if err != nil {
		return nil, d.fail(ctx, "list clients", err)
	}
	return out, nil
}

// DeleteClient removes a client; ErrNotFound if absent.
func (d *DB) DeleteClient(ctx context.Context, id string) error {
	return d.fail(ctx, "delete client", affected(d.pool.Exec(ctx, `DELETE FROM clients WHERE id = $1`, id)))
}

// SetClientSecret replaces the secret hash and bumps UpdatedAt; ErrNotFound if absent.
func (d *DB) SetClientSecret(ctx context.Context, id string, secretHash []byte, now time.Time) error {
	return d.fail(ctx, "set client secret", affected(d.pool.Exec(ctx,
		`UPDATE clients SET secret_hash = $2, updated_at = $3 WHERE id = $1`, id, secretHash, nullTime(now))))
}

// UpdateClient replaces c's metadata; ErrNotFound if absent.
func (d *DB) UpdateClient(ctx context.Context, c *oauth.Client) error {
	return d.fail(ctx, "update client", affected(d.pool.Exec(ctx, `UPDATE clients SET name = $2, grant_types = $3,
		redirect_uris = $4, scopes = $5, token_endpoint_auth_method = $6, access_token_format = $7,
		access_token_ttl_ns = $8, first_party = $9, updated_at = $10, post_logout_redirect_uris = $11 WHERE id = $1`,
		c.ID, c.Name, list(c.GrantTypes), list(c.RedirectURIs), list(c.Scopes), c.TokenEndpointAuthMethod,
		c.AccessTokenFormat, int64(c.AccessTokenTTL), c.FirstParty, nullTime(c.UpdatedAt),
		list(c.PostLogoutRedirectURIs))))
}

func scanClient(row pgx.Row) (*oauth.Client, error) {
	var (
		c                    oauth.Client
		ttl                  int64
		createdAt, updatedAt pgtype.Timestamptz
	)
	if err := row.Scan(&c.ID, &c.SecretHash, &c.Name, &c.GrantTypes, &c.RedirectURIs, &c.Scopes,
		&c.TokenEndpointAuthMethod, &c.AccessTokenFormat, &ttl, &c.FirstParty, &createdAt, &updatedAt,
		&c.PostLogoutRedirectURIs); err != nil {
		return nil, err
	}
	c.GrantTypes, c.RedirectURIs, c.Scopes = unlist(c.GrantTypes), unlist(c.RedirectURIs), unlist(c.Scopes)
	c.PostLogoutRedirectURIs = unlist(c.PostLogoutRedirectURIs)
	c.AccessTokenTTL = time.Duration(ttl)
	c.CreatedAt, c.UpdatedAt = fromTime(createdAt), fromTime(updatedAt)
	return &c, nil
}
