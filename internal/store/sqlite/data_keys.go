package sqlite

import (
	"context"
	"database/sql"

	"github.com/authd/authd/internal/store"
)

// AddDataKey stores k unless its label exists, and returns the stored key.
func (d *DB) AddDataKey(ctx context.Context, k *store.DataKey) (*store.DataKey, error) {
	var out *store.DataKey
	err := d.tx(ctx, func(_ *sql.Tx, stmts []*sql.Stmt) error {
		if _, err := stmts[0].ExecContext(ctx, k.Label, k.MasterID, k.Wrapped, micros(k.CreatedAt), micros(k.UpdatedAt)); err != nil {
			return err
		}
		var err error
		out, err = scanDataKey(stmts[1].QueryRowContext(ctx, k.Label))
		return err
	},
		`INSERT INTO data_keys (label, master_id, wrapped, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (label) DO NOTHING`,
		`SELECT label, master_id, wrapped, created_at, updated_at FROM data_keys WHERE label = ?`)
	if err != nil {
		return nil, d.fail(ctx, "add data key", err)
	}
	return out, nil
}

// DataKeys returns every data key, ordered by label.
func (d *DB) DataKeys(ctx context.Context) ([]*store.DataKey, error) {
	rows, err := d.query(ctx, `SELECT label, master_id, wrapped, created_at, updated_at FROM data_keys ORDER BY label`)
	if err != nil {
		return nil, d.fail(ctx, "data keys", err)
	}
	defer rows.Close()
	var out []*store.DataKey
	for rows.Next() {
		k, err := scanDataKey(rows)
		if err != nil {
			return nil, d.fail(ctx, "data keys", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, d.fail(ctx, "data keys", err)
	}
	return out, nil
}

// RewrapDataKeys replaces the wrapping of ks, all or none, each only if it is
// still wrapped by fromMasterID.
func (d *DB) RewrapDataKeys(ctx context.Context, fromMasterID string, ks []*store.DataKey) error {
	err := d.tx(ctx, func(_ *sql.Tx, stmts []*sql.Stmt) error {
		for _, k := range ks {
			if err := rowsAffected(stmts[0].ExecContext(ctx, k.MasterID, k.Wrapped, micros(k.UpdatedAt), k.Label, fromMasterID)); err != nil {
				return store.ErrConflict // wrapped by another master meanwhile, or gone
			}
		}
		return nil
	}, `UPDATE data_keys SET master_id = ?, wrapped = ?, updated_at = ? WHERE label = ? AND master_id = ?`)
	return d.fail(ctx, "rewrap data keys", err)
}

func scanDataKey(s scanner) (*store.DataKey, error) {
	var (
		k                    store.DataKey
		createdAt, updatedAt sql.NullInt64
	)
	if err := s.Scan(&k.Label, &k.MasterID, &k.Wrapped, &createdAt, &updatedAt); err != nil {
		return nil, err
	}
	k.CreatedAt, k.UpdatedAt = fromMicros(createdAt), fromMicros(updatedAt)
	return &k, nil
}
