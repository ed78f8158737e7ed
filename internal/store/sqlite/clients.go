package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/store"
)

const clientColumns = `id, secret_hash, name, grant_types, redirect_uris, scopes,
	token_endpoint_auth_method, access_token_format, access_token_ttl_ns, first_party,
	created_at, updated_at, post_logout_redirect_uris, allowed_cors_origins,
	metadata, registration_token_hash, secret_sealed`

// CreateClient inserts c and its CORS origins; ErrConflict if c.ID exists.
func (d *DB) CreateClient(ctx context.Context, c *oauth.Client) error {
	lists, err := encodeClientLists(c)
	if err != nil {
		return d.fail(ctx, "create client", err)
	}
	meta, err := store.EncodeMetadata(c.Metadata)
	if err != nil {
		return d.fail(ctx, "create client", err)
	}
	err = d.tx(ctx, func(_ *sql.Tx, stmts []*sql.Stmt) error {
		if _, err := stmts[0].ExecContext(ctx, c.ID, c.SecretHash, c.Name, lists[0], lists[1], lists[2],
			c.TokenEndpointAuthMethod, c.AccessTokenFormat, int64(c.AccessTokenTTL), c.FirstParty,
			micros(c.CreatedAt), micros(c.UpdatedAt), lists[3], lists[4],
			meta, c.RegistrationTokenHash, c.SecretSealed); err != nil {
			return err
		}
		return insertOrigins(ctx, stmts[1], c)
	},
		`INSERT INTO clients (`+clientColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		insertOrigin)
	return d.fail(ctx, "create client", err)
}

const insertOrigin = `INSERT INTO client_cors_origins (origin, client_id) VALUES (?, ?) ON CONFLICT DO NOTHING`

func insertOrigins(ctx context.Context, ins *sql.Stmt, c *oauth.Client) error {
	for _, o := range c.CORSOrigins() {
		if _, err := ins.ExecContext(ctx, o, c.ID); err != nil {
			return err
		}
	}
	return nil
}

// encodeClientLists encodes grant types, redirect URIs, scopes, post-logout
// redirect URIs and allowed CORS origins, in that order.
func encodeClientLists(c *oauth.Client) ([5]string, error) {
	var out [5]string
	for i, l := range [][]string{c.GrantTypes, c.RedirectURIs, c.Scopes, c.PostLogoutRedirectURIs, c.AllowedCORSOrigins} {
		v, err := encodeList(l)
		if err != nil {
			return out, err
		}
		out[i] = v
	}
	return out, nil
}

// OriginAllowed reports whether some client's CORS origins contain origin.
func (d *DB) OriginAllowed(ctx context.Context, origin string) (bool, error) {
	row, err := d.queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM client_cors_origins WHERE origin = ?)`, origin)
	if err != nil {
		return false, d.fail(ctx, "origin allowed", err)
	}
	var ok bool
	if err := row.Scan(&ok); err != nil {
		return false, d.fail(ctx, "origin allowed", err)
	}
	return ok, nil
}

// Client returns the client with that id, or ErrNotFound.
func (d *DB) Client(ctx context.Context, id string) (*oauth.Client, error) {
	row, err := d.queryRow(ctx, `SELECT `+clientColumns+` FROM clients WHERE id = ?`, id)
	if err != nil {
		return nil, d.fail(ctx, "client", err)
	}
	c, err := scanClient(row)
	if err != nil {
		return nil, d.fail(ctx, "client", err)
	}
	return c, nil
}

// ListClients returns every client ordered by id.
func (d *DB) ListClients(ctx context.Context) ([]*oauth.Client, error) {
	rows, err := d.query(ctx, `SELECT `+clientColumns+` FROM clients ORDER BY id`)
	if err != nil {
		return nil, d.fail(ctx, "list clients", err)
	}
	defer rows.Close()
	var out []*oauth.Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, d.fail(ctx, "list clients", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, d.fail(ctx, "list clients", err)
	}
	return out, nil
}

// DeleteClient removes a client; ErrNotFound if absent.
func (d *DB) DeleteClient(ctx context.Context, id string) error {
	return d.fail(ctx, "delete client", rowsAffected(d.exec(ctx, `DELETE FROM clients WHERE id = ?`, id)))
}

// SetClientSecret replaces the secret hash and bumps UpdatedAt; ErrNotFound if absent.
func (d *DB) SetClientSecret(ctx context.Context, id string, secretHash, secretSealed []byte, now time.Time) error {
	return d.fail(ctx, "set client secret", rowsAffected(d.exec(ctx,
		`UPDATE clients SET secret_hash = ?, secret_sealed = ?, updated_at = ? WHERE id = ?`, secretHash, secretSealed, micros(now), id)))
}

// UpdateClient replaces c's metadata and its CORS origins; ErrNotFound if absent.
func (d *DB) UpdateClient(ctx context.Context, c *oauth.Client) error {
	lists, err := encodeClientLists(c)
	if err != nil {
		return d.fail(ctx, "update client", err)
	}
	meta, err := store.EncodeMetadata(c.Metadata)
	if err != nil {
		return d.fail(ctx, "update client", err)
	}
	err = d.tx(ctx, func(_ *sql.Tx, stmts []*sql.Stmt) error {
		if err := rowsAffected(stmts[0].ExecContext(ctx, c.Name, lists[0], lists[1], lists[2],
			c.TokenEndpointAuthMethod, c.AccessTokenFormat, int64(c.AccessTokenTTL), c.FirstParty,
			micros(c.UpdatedAt), lists[3], lists[4], meta, c.RegistrationTokenHash, c.ID)); err != nil {
			return err
		}
		if _, err := stmts[1].ExecContext(ctx, c.ID); err != nil {
			return err
		}
		return insertOrigins(ctx, stmts[2], c)
	},
		`UPDATE clients SET name = ?, grant_types = ?, redirect_uris = ?, scopes = ?,
		token_endpoint_auth_method = ?, access_token_format = ?, access_token_ttl_ns = ?, first_party = ?,
		updated_at = ?, post_logout_redirect_uris = ?, allowed_cors_origins = ?,
		metadata = ?, registration_token_hash = ? WHERE id = ?`,
		`DELETE FROM client_cors_origins WHERE client_id = ?`,
		insertOrigin)
	return d.fail(ctx, "update client", err)
}

func scanClient(s scanner) (*oauth.Client, error) {
	var (
		c                                         oauth.Client
		grants, uris, scopes, logoutURIs, origins string
		meta                                      string
		ttl                                       int64
		createdAt, updatedAt                      sql.NullInt64
	)
	err := s.Scan(&c.ID, &c.SecretHash, &c.Name, &grants, &uris, &scopes,
		&c.TokenEndpointAuthMethod, &c.AccessTokenFormat, &ttl, &c.FirstParty, &createdAt, &updatedAt, &logoutURIs, &origins,
		&meta, &c.RegistrationTokenHash, &c.SecretSealed)
	if err != nil {
		return nil, err
	}
	if c.Metadata, err = store.DecodeMetadata(meta); err != nil {
		return nil, err
	}
	if c.GrantTypes, err = decodeList(grants); err != nil {
		return nil, err
	}
	if c.RedirectURIs, err = decodeList(uris); err != nil {
		return nil, err
	}
	if c.Scopes, err = decodeList(scopes); err != nil {
		return nil, err
	}
	if c.PostLogoutRedirectURIs, err = decodeList(logoutURIs); err != nil {
		return nil, err
	}
	if c.AllowedCORSOrigins, err = decodeList(origins); err != nil {
		return nil, err
	}
	c.AccessTokenTTL = time.Duration(ttl)
	c.CreatedAt, c.UpdatedAt = fromMicros(createdAt), fromMicros(updatedAt)
	return &c, nil
}
