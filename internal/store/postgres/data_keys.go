package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/authd/authd/internal/store"
)

// AddDataKey stores k unless its label exists, and returns the stored key.
func (d *DB) AddDataKey(ctx context.Context, k *store.DataKey) (*store.DataKey, error) {
	// Two statements, not one: a statement's snapshot does not see a row
	// another replica committed while this INSERT waited on it, the next
	// statement's does.
	if _, err := d.pool.Exec(ctx, `INSERT INTO data_keys (label, master_id, wrapped, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (label) DO NOTHING`,
		k.Label, k.MasterID, k.Wrapped, nullTime(k.CreatedAt), nullTime(k.UpdatedAt)); err != nil {
		return nil, d.fail(ctx, "add data key", err)
	}
	out, err := scanDataKey(d.pool.QueryRow(ctx,
		`SELECT label, master_id, wrapped, created_at, updated_at FROM data_keys WHERE label = $1`, k.Label))
	if err != nil {
		return nil, d.fail(ctx, "add data key", err)
	}
	return out, nil
}

// DataKeys returns every data key, ordered by label.
func (d *DB) DataKeys(ctx context.Context) ([]*store.DataKey, error) {
	rows, err := d.pool.Query(ctx, `SELECT label, master_id, wrapped, created_at, updated_at FROM data_keys ORDER BY label`)
	if err != nil {
		return nil, d.fail(ctx, "data keys", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*store.DataKey, error) { return scanDataKey(r) })
	if err != nil {
		return nil, d.fail(ctx, "data keys", err)
	}
	return out, nil
}

// RewrapDataKeys replaces the wrapping of ks, all or none, each only if it is
// still wrapped by fromMasterID.
func (d *DB) RewrapDataKeys(ctx context.Context, fromMasterID string, ks []*store.DataKey) error {
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		for _, k := range ks {
			tag, err := tx.Exec(ctx, `UPDATE data_keys SET master_id = $1, wrapped = $2, updated_at = $3
				WHERE label = $4 AND master_id = $5`, k.MasterID, k.Wrapped, nullTime(k.UpdatedAt), k.Label, fromMasterID)
			if err != nil {
				return err
			}
			if tag.RowsAffected() != 1 {
				return store.ErrConflict // wrapped by another master meanwhile, or gone
			}
		}
		return nil
	})
	return d.fail(ctx, "rewrap data keys", err)
}

func scanDataKey(row pgx.Row) (*store.DataKey, error) {
	var (
		k                    store.DataKey
		createdAt, updatedAt pgtype.Timestamptz
	)
	if err := row.Scan(&k.Label, &k.MasterID, &k.Wrapped, &createdAt, &updatedAt); err != nil {
		return nil, err
	}
	k.CreatedAt, k.UpdatedAt = fromTime(createdAt), fromTime(updatedAt)
	return &k, nil
}
