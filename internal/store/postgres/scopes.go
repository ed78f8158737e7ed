package postgres

import (
	"context"
	"time"
)

// SetScopeDescription creates or replaces the description of a scope.
func (d *DB) SetScopeDescription(ctx context.Context, scope, description string, now time.Time) error {
	_, err := d.pool.Exec(ctx, `INSERT INTO scope_descriptions (scope, description, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (scope) DO UPDATE SET description = excluded.description, updated_at = excluded.updated_at`,
		scope, description, nullTime(now))
	return d.fail(ctx, "set scope description", err)
}

// DeleteScopeDescription removes it; ErrNotFound if absent.
func (d *DB) DeleteScopeDescription(ctx context.Context, scope string) error {
	return d.fail(ctx, "delete scope description", affected(d.pool.Exec(ctx,
		`DELETE FROM scope_descriptions WHERE scope = $1`, scope)))
}

// ScopeDescriptions returns every description by scope.
func (d *DB) ScopeDescriptions(ctx context.Context) (map[string]string, error) {
	rows, err := d.pool.Query(ctx, `SELECT scope, description FROM scope_descriptions`)
	if err != nil {
		return nil, d.fail(ctx, "scope descriptions", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var scope, desc string
		if err := rows.Scan(&scope, &desc); err != nil {
			return nil, d.fail(ctx, "scope descriptions", err)
		}
		out[scope] = desc
	}
	if err := rows.Err(); err != nil {
		return nil, d.fail(ctx, "scope descriptions", err)
	}
	return out, nil
}
