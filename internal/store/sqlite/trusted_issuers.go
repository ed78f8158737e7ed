package sqlite

import (
	"context"
	"database/sql"

	"github.com/authd/authd/internal/store"
)

const trustedIssuerColumns = `id, issuer, jwks_uri, audience, subject_mapping, created_at`

// CreateTrustedIssuer inserts ti; ErrConflict if its id or issuer exists.
func (d *DB) CreateTrustedIssuer(ctx context.Context, ti *store.TrustedIssuer) error {
	_, err := d.exec(ctx, `INSERT INTO trusted_issuers (`+trustedIssuerColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		ti.ID, ti.Issuer, ti.JWKSURI, ti.Audience, ti.SubjectMapping, micros(ti.CreatedAt))
	return d.fail(ctx, "create trusted issuer", err)
}

// TrustedIssuer returns the one with that id, or ErrNotFound.
func (d *DB) TrustedIssuer(ctx context.Context, id string) (*store.TrustedIssuer, error) {
	return d.trustedIssuerWhere(ctx, "trusted issuer", `id = ?`, id)
}

// TrustedIssuerByIssuer returns the one with that issuer, or ErrNotFound.
func (d *DB) TrustedIssuerByIssuer(ctx context.Context, issuer string) (*store.TrustedIssuer, error) {
	return d.trustedIssuerWhere(ctx, "trusted issuer by issuer", `issuer = ?`, issuer)
}

func (d *DB) trustedIssuerWhere(ctx context.Context, op, where string, arg any) (*store.TrustedIssuer, error) {
	row, err := d.queryRow(ctx, `SELECT `+trustedIssuerColumns+` FROM trusted_issuers WHERE `+where, arg)
	if err != nil {
		return nil, d.fail(ctx, op, err)
	}
	ti, err := scanTrustedIssuer(row)
	if err != nil {
		return nil, d.fail(ctx, op, err)
	}
	return ti, nil
}

// ListTrustedIssuers returns every trusted issuer ordered by issuer.
func (d *DB) ListTrustedIssuers(ctx context.Context) ([]*store.TrustedIssuer, error) {
	rows, err := d.query(ctx, `SELECT `+trustedIssuerColumns+` FROM trusted_issuers ORDER BY issuer`)
	if err != nil {
		return nil, d.fail(ctx, "list trusted issuers", err)
	}
	defer rows.Close()
	var out []*store.TrustedIssuer
	for rows.Next() {
		ti, err := scanTrustedIssuer(rows)
		if err != nil {
			return nil, d.fail(ctx, "list trusted issuers", err)
		}
		out = append(out, ti)
	}
	if err := rows.Err(); err != nil {
		return nil, d.fail(ctx, "list trusted issuers", err)
	}
	return out, nil
}

// DeleteTrustedIssuer removes it; ErrNotFound if absent.
func (d *DB) DeleteTrustedIssuer(ctx context.Context, id string) error {
	return d.fail(ctx, "delete trusted issuer", rowsAffected(d.exec(ctx, `DELETE FROM trusted_issuers WHERE id = ?`, id)))
}

func scanTrustedIssuer(s scanner) (*store.TrustedIssuer, error) {
	var (
		ti        store.TrustedIssuer
		createdAt sql.NullInt64
	)
	if err := s.Scan(&ti.ID, &ti.Issuer, &ti.JWKSURI, &ti.Audience, &ti.SubjectMapping, &createdAt); err != nil {
		return nil, err
	}
	ti.CreatedAt = fromMicros(createdAt)
	return &ti, nil
}
