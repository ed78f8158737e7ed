package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/store"
)

const clientColumns = `id, secret_hash, name, grant_types, redirect_uris, scopes,
	token_endpoint_auth_method, access_token_format, access_token_ttl_ns, first_party,
	created_at, updated_at, post_logout_redirect_uris, allowed_cors_origins,
	metadata, registration_token_hash, secret_sealed`

// CreateClient inserts c and its CORS origins; ErrConflict if c.ID exists.
func (d *DB) CreateClient(ctx context.Context, c *oauth.Client) error {
	meta, err := store.EncodeMetadata(c.Metadata)
	if err != nil {
		return d.fail(ctx, "create client", err)
	}
	err = pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO clients (`+clientColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
			c.ID, c.SecretHash, c.Name, list(c.GrantTypes), list(c.RedirectURIs), list(c.Scopes),
			c.TokenEndpointAuthMethod, c.AccessTokenFormat, int64(c.AccessTokenTTL), c.FirstParty,
			nullTime(c.CreatedAt), nullTime(c.UpdatedAt), list(c.PostLogoutRedirectURIs),
			list(c.AllowedCORSOrigins), meta, c.RegistrationTokenHash, c.SecretSealed); err != nil {
			return err
		}
		return insertOrigins(ctx, tx, c)
	})
	return d.fail(ctx, "create client", err)
}

// insertOrigins writes c's effective CORS origins to the lookup table.
func insertOrigins(ctx context.Context, tx pgx.Tx, c *oauth.Client) error {
	origins := c.CORSOrigins()
	if len(origins) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO client_cors_origins (origin, client_id)
		SELECT o, $2 FROM unnest($1::text[]) AS o ON CONFLICT DO NOTHING`, origins, c.ID)
	return err
}

// OriginAllowed reports whether some client's CORS origins contain origin.
func (d *DB) OriginAllowed(ctx context.Context, origin string) (bool, error) {
	var ok bool
	err := d.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM client_cors_origins WHERE origin = $1)`, origin).Scan(&ok)
	if err != nil {
		return false, d.fail(ctx, "origin allowed", err)
	}
	return ok, nil
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
func (d *DB) SetClientSecret(ctx context.Context, id string, secretHash, secretSealed []byte, now time.Time) error {
	return d.fail(ctx, "set client secret", affected(d.pool.Exec(ctx,
		`UPDATE clients SET secret_hash = $2, secret_sealed = $3, updated_at = $4 WHERE id = $1`,
		id, secretHash, secretSealed, nullTime(now))))
}

// UpdateClient replaces c's metadata and its CORS origins; ErrNotFound if absent.
func (d *DB) UpdateClient(ctx context.Context, c *oauth.Client) error {
	meta, err := store.EncodeMetadata(c.Metadata)
	if err != nil {
		return d.fail(ctx, "update client", err)
	}
	err = pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		if err := affected(tx.Exec(ctx, `UPDATE clients SET name = $2, grant_types = $3,
			redirect_uris = $4, scopes = $5, token_endpoint_auth_method = $6, access_token_format = $7,
			access_token_ttl_ns = $8, first_party = $9, updated_at = $10, post_logout_redirect_uris = $11,
			allowed_cors_origins = $12, metadata = $13, registration_token_hash = $14 WHERE id = $1`,
			c.ID, c.Name, list(c.GrantTypes), list(c.RedirectURIs), list(c.Scopes), c.TokenEndpointAuthMethod,
			c.AccessTokenFormat, int64(c.AccessTokenTTL), c.FirstParty, nullTime(c.UpdatedAt),
			list(c.PostLogoutRedirectURIs), list(c.AllowedCORSOrigins), meta, c.RegistrationTokenHash)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM client_cors_origins WHERE client_id = $1`, c.ID); err != nil {
			return err
		}
		return insertOrigins(ctx, tx, c)
	})
	return d.fail(ctx, "update client", err)
}

func scanClient(row pgx.Row) (*oauth.Client, error) {
	var (
		c                    oauth.Client
		ttl                  int64
		createdAt, updatedAt pgtype.Timestamptz
		meta                 string
	)
	if err := row.Scan(&c.ID, &c.SecretHash, &c.Name, &c.GrantTypes, &c.RedirectURIs, &c.Scopes,
		&c.TokenEndpointAuthMethod, &c.AccessTokenFormat, &ttl, &c.FirstParty, &createdAt, &updatedAt,
		&c.PostLogoutRedirectURIs, &c.AllowedCORSOrigins, &meta, &c.RegistrationTokenHash, &c.SecretSealed); err != nil {
		return nil, err
	}
	var err error
	if c.Metadata, err = store.DecodeMetadata(meta); err != nil {
		return nil, err
	}
	c.GrantTypes, c.RedirectURIs, c.Scopes = unlist(c.GrantTypes), unlist(c.RedirectURIs), unlist(c.Scopes)
	c.PostLogoutRedirectURIs, c.AllowedCORSOrigins = unlist(c.PostLogoutRedirectURIs), unlist(c.AllowedCORSOrigins)
	c.AccessTokenTTL = time.Duration(ttl)
	c.CreatedAt, c.UpdatedAt = fromTime(createdAt), fromTime(updatedAt)
	return &c, nil
}
