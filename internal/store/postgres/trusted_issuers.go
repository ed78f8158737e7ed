package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/authd/authd/internal/store"
)

const trustedIssuerColumns = `id, issuer, jwks_uri, audience, subject_mapping, created_at`

// CreateTrustedIssuer inserts ti; ErrConflict if its id or issuer exists.
func (d *DB) CreateTrustedIssuer(ctx context.Context, ti *store.TrustedIssuer) error {
	_, err := d.pool.Exec(ctx, `INSERT INTO trusted_issuers (`+trustedIssuerColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		ti.ID, ti.Issuer, ti.JWKSURI, ti.Audience, ti.SubjectMapping, nullTime(ti.CreatedAt))
	return d.fail(ctx, "create trusted issuer", err)
}

// TrustedIssuer returns the one with that id, or ErrNotFound.
func (d *DB) TrustedIssuer(ctx context.Context, id string) (*store.TrustedIssuer, error) {
	ti, err := scanTrustedIssuer(d.pool.QueryRow(ctx, `SELECT `+trustedIssuerColumns+` FROM trusted_issuers WHERE id = $1`, id))
	if err != nil {
		return nil, d.fail(ctx, "trusted issuer", err)
	}
	return ti, nil
}

// TrustedIssuerByIssuer returns the one with that issuer, or ErrNotFound.
func (d *DB) TrustedIssuerByIssuer(ctx context.Context, issuer string) (*store.TrustedIssuer, error) {
	ti, err := scanTrustedIssuer(d.pool.QueryRow(ctx, `SELECT `+trustedIssuerColumns+` FROM trusted_issuers WHERE issuer = $1`, issuer))
	if err != nil {
		return nil, d.fail(ctx, "trusted issuer by issuer", err)
	}
	return ti, nil
}

// ListTrustedIssuers returns every trusted issuer ordered by issuer.
func (d *DB) ListTrustedIssuers(ctx context.Context) ([]*store.TrustedIssuer, error) {
	rows, err := d.pool.Query(ctx, `SELECT `+trustedIssuerColumns+` FROM trusted_issuers ORDER BY issuer`)
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
	return d.fail(ctx, "delete trusted issuer", affected(d.pool.Exec(ctx, `DELETE FROM trusted_issuers WHERE id = $1`, id)))
}

func scanTrustedIssuer(row pgx.Row) (*store.TrustedIssuer, error) {
	var (
		ti        store.TrustedIssuer
		createdAt pgtype.Timestamptz
	)
	if err := row.Scan(&ti.ID, &ti.Issuer, &ti.JWKSURI, &ti.Audience, &ti.SubjectMapping, &createdAt); err != nil {
		return nil, err
	}
	ti.CreatedAt = fromTime(createdAt)
	return &ti, nil
}
