package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/authd/authd/internal/store"
)

const resourceColumns = `id, indicator, name, scopes, access_token_format, access_token_ttl_ns,
	introspecting_clients, created_at, updated_at`

// CreateResource inserts r; ErrConflict if its id or indicator exists.
func (d *DB) CreateResource(ctx context.Context, r *store.Resource) error {
	_, err := d.pool.Exec(ctx, `INSERT INTO resources (`+resourceColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		r.ID, r.Indicator, r.Name, list(r.Scopes), r.AccessTokenFormat, int64(r.AccessTokenTTL),
		list(r.IntrospectingClients), nullTime(r.CreatedAt), nullTime(r.UpdatedAt))
	return d.fail(ctx, "create resource", err)
}

// Resource returns the resource with that id, or ErrNotFound.
func (d *DB) Resource(ctx context.Context, id string) (*store.Resource, error) {
	r, err := scanResource(d.pool.QueryRow(ctx, `SELECT `+resourceColumns+` FROM resources WHERE id = $1`, id))
	if err != nil {
		return nil, d.fail(ctx, "resource", err)
	}
	return r, nil
}

// ResourceByIndicator returns the resource with that indicator, or ErrNotFound.
func (d *DB) ResourceByIndicator(ctx context.Context, indicator string) (*store.Resource, error) {
	r, err := scanResource(d.pool.QueryRow(ctx, `SELECT `+resourceColumns+` FROM resources WHERE indicator = $1`, indicator))
	if err != nil {
		return nil, d.fail(ctx, "resource by indicator", err)
	}
	return r, nil
}

// ListResources returns every resource ordered by indicator.
func (d *DB) ListResources(ctx context.Context) ([]*store.Resource, error) {
	rows, err := d.pool.Query(ctx, `SELECT `+resourceColumns+` FROM resources ORDER BY indicator`)
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
	return d.fail(ctx, "update resource", affected(d.pool.Exec(ctx, `UPDATE resources SET indicator = $2, name = $3,
		scopes = $4, access_token_format = $5, access_token_ttl_ns = $6, introspecting_clients = $7, updated_at = $8
		WHERE id = $1`, r.ID, r.Indicator, r.Name, list(r.Scopes), r.AccessTokenFormat, int64(r.AccessTokenTTL),
		list(r.IntrospectingClients), nullTime(r.UpdatedAt))))
}

// DeleteResource removes it; ErrNotFound if absent.
func (d *DB) DeleteResource(ctx context.Context, id string) error {
	return d.fail(ctx, "delete resource", affected(d.pool.Exec(ctx, `DELETE FROM resources WHERE id = $1`, id)))
}

func scanResource(row pgx.Row) (*store.Resource, error) {
	var (
		r                    store.Resource
		ttl                  int64
		createdAt, updatedAt pgtype.Timestamptz
	)
	if err := row.Scan(&r.ID, &r.Indicator, &r.Name, &r.Scopes, &r.AccessTokenFormat, &ttl,
		&r.IntrospectingClients, &createdAt, &updatedAt); err != nil {
		return nil, err
	}
	r.Scopes, r.IntrospectingClients = unlist(r.Scopes), unlist(r.IntrospectingClients)
	r.AccessTokenTTL = time.Duration(ttl)
	r.CreatedAt, r.UpdatedAt = fromTime(createdAt), fromTime(updatedAt)
	return &r, nil
}
