package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/authd/authd/internal/store"
)

const resourceColumns = `id, indicator, name, scopes, access_token_format, access_token_ttl_ns,
	introspecting_clients, created_at, updated_at`

// CreateResource inserts r; ErrConflict if its id or indicator exists.
func (d *DB) CreateResource(ctx context.Context, r *store.Resource) error {
	scopes, clients, err := encodeResourceLists(r)
	if err != nil {
		return d.fail(ctx, "create resource", err)
	}
	_, err = d.exec(ctx, `INSERT INTO resources (`+resourceColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.Indicator, r.Name, scopes, r.AccessTokenFormat, int64(r.AccessTokenTTL), clients,
		micros(r.CreatedAt), micros(r.UpdatedAt))
	return d.fail(ctx, "create resource", err)
}

func encodeResourceLists(r *store.Resource) (string, string, error) {
	scopes, err := encodeList(r.Scopes)
	if err != nil {
		return "", "", err
	}
	clients, err := encodeList(r.IntrospectingClients)
	return scopes, clients, err
}

// Resource returns the resource with that id, or ErrNotFound.
func (d *DB) Resource(ctx context.Context, id string) (*store.Resource, error) {
	return d.resourceWhere(ctx, "resource", `id = ?`, id)
}

// ResourceByIndicator returns the resource with that indicator, or ErrNotFound.
func (d *DB) ResourceByIndicator(ctx context.Context, indicator string) (*store.Resource, error) {
	return d.resourceWhere(ctx, "resource by indicator", `indicator = ?`, indicator)
}

func (d *DB) resourceWhere(ctx context.Context, op, where string, arg any) (*store.Resource, error) {
	row, err := d.queryRow(ctx, `SELECT `+resourceColumns+` FROM resources WHERE `+where, arg)
	if err != nil {
		return nil, d.fail(ctx, op, err)
	}
	r, err := scanResource(row)
	if err != nil {
		return nil, d.fail(ctx, op, err)
	}
	return r, nil
}

// ListResources returns every resource ordered by indicator.
func (d *DB) ListResources(ctx context.Context) ([]*store.Resource, error) {
	rows, err := d.query(ctx, `SELECT `+resourceColumns+` FROM resources ORDER BY indicator`)
	if err != nil {
		return nil, d.fail(ctx, "list resources", err)
	}
	defer rows.Close()
	var out []*store.Resource
	for rows.Next() {
		r, err := scanResource(rows)
		if err != nil {
			return nil, d.fail(ctx, "list resources", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, d.fail(ctx, "list resources", err)
	}
	return out, nil
}

// UpdateResource replaces everything but id and created_at; ErrNotFound if
// absent, ErrConflict if the indicator is another resource's.
func (d *DB) UpdateResource(ctx context.Context, r *store.Resource) error {
	scopes, clients, err := encodeResourceLists(r)
	if err != nil {
		return d.fail(ctx, "update resource", err)
	}
	return d.fail(ctx, "update resource", rowsAffected(d.exec(ctx, `UPDATE resources SET indicator = ?, name = ?,
		scopes = ?, access_token_format = ?, access_token_ttl_ns = ?, introspecting_clients = ?, updated_at = ?
		WHERE id = ?`, r.Indicator, r.Name, scopes, r.AccessTokenFormat, int64(r.AccessTokenTTL), clients,
		micros(r.UpdatedAt), r.ID)))
}

// DeleteResource removes it; ErrNotFound if absent.
func (d *DB) DeleteResource(ctx context.Context, id string) error {
	return d.fail(ctx, "delete resource", rowsAffected(d.exec(ctx, `DELETE FROM resources WHERE id = ?`, id)))
}

func scanResource(s scanner) (*store.Resource, error) {
	var (
		r                    store.Resource
		scopes, clients      string
		ttl                  int64
		createdAt, updatedAt sql.NullInt64
	)
	if err := s.Scan(&r.ID, &r.Indicator, &r.Name, &scopes, &r.AccessTokenFormat, &ttl, &clients,
		&createdAt, &updatedAt); err != nil {
		return nil, err
	}
	var err error
	if r.Scopes, err = decodeList(scopes); err != nil {
		return nil, err
	}
	if r.IntrospectingClients, err = decodeList(clients); err != nil {
		return nil, err
	}
	r.AccessTokenTTL = time.Duration(ttl)
	r.CreatedAt, r.UpdatedAt = fromMicros(createdAt), fromMicros(updatedAt)
	return &r, nil
}
