package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/authd/authd/internal/oauth"
)

const clientColumns = `id, secret_hash, name, grant_types, redirect_uris, scopes,
	token_endpoint_auth_method, access_token_format, access_token_ttl_ns, first_party,
	created_at, updated_at, post_logout_redirect_uris`

// CreateClient inserts c; ErrConflict if c.ID exists.
func (d *DB) CreateClient(ctx context.Context, c *oauth.Client) error {
	grants, err := encodeList(c.GrantTypes)
	if err != nil {
		return d.fail(ctx, "create client", err)
	}
	uris, err := encodeList(c.RedirectURIs)
	if err != nil {
		return d.fail(ctx, "create client", err)
	}
	scopes, err := encodeList(c.Scopes)
	if err != nil {
		return d.fail(ctx, "create client", err)
	}
	logoutURIs, err := encodeList(c.PostLogoutRedirectURIs)
	if err != nil {
		return d.fail(ctx, "create client", err)
	}
	_, err = d.exec(ctx, `INSERT INTO clients (`+clientColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.SecretHash, c.Name, grants, uris, scopes, c.TokenEndpointAuthMethod,
		c.AccessTokenFormat, int64(c.AccessTokenTTL), c.FirstParty, micros(c.CreatedAt), micros(c.UpdatedAt), logoutURIs)
	return d.fail(ctx, "create client", err)
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
func (d *DB) SetClientSecret(ctx context.Context, id string, secretHash []byte, now time.Time) error {
	return d.fail(ctx, "set client secret", rowsAffected(d.exec(ctx,
		`UPDATE clients SET secret_hash = ?, updated_at = ? WHERE id = ?`, secretHash, micros(now), id)))
}

// UpdateClient replaces c's metadata; ErrNotFound if absent.
func (d *DB) UpdateClient(ctx context.Context, c *oauth.Client) error {
	grants, err := encodeList(c.GrantTypes)
	if err != nil {
		return d.fail(ctx, "update client", err)
	}
	uris, err := encodeList(c.RedirectURIs)
	if err != nil {
		return d.fail(ctx, "update client", err)
	}
	scopes, err := encodeList(c.Scopes)
	if err != nil {
		return d.fail(ctx, "update client", err)
	}
	logoutURIs, err := encodeList(c.PostLogoutRedirectURIs)
	if err != nil {
		return d.fail(ctx, "update client", err)
	}
	return d.fail(ctx, "update client", rowsAffected(d.exec(ctx, `UPDATE clients SET name = ?, grant_types = ?,
		redirect_uris = ?, scopes = ?, token_endpoint_auth_method = ?, access_token_format = ?,
		access_token_ttl_ns = ?, first_party = ?, updated_at = ?, post_logout_redirect_uris = ? WHERE id = ?`,
		c.Name, grants, uris, scopes, c.TokenEndpointAuthMethod, c.AccessTokenFormat,
		int64(c.AccessTokenTTL), c.FirstParty, micros(c.UpdatedAt), logoutURIs, c.ID)))
}

func scanClient(s scanner) (*oauth.Client, error) {
	var (
		c                                oauth.Client
		grants, uris, scopes, logoutURIs string
		ttl                              int64
		createdAt, updatedAt             sql.NullInt64
	)
	err := s.Scan(&c.ID, &c.SecretHash, &c.Name, &grants, &uris, &scopes,
		&c.TokenEndpointAuthMethod, &c.AccessTokenFormat, &ttl, &c.FirstParty, &createdAt, &updatedAt, &logoutURIs)
	if err != nil {
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
	c.AccessTokenTTL = time.Duration(ttl)
	c.CreatedAt, c.UpdatedAt = fromMicros(createdAt), fromMicros(updatedAt)
	return &c, nil
}
