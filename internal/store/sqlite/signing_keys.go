package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/authd/authd/internal/store"
)

const signingKeyColumns = `id, algorithm, private_key, public_jwk, created_at, publish_until, purpose`

// RotateKey inserts k and retires every other current key of its algorithm
// and purpose (or of no purpose) at publishUntil, in one transaction;
// ErrConflict if k.ID exists.
func (d *DB) RotateKey(ctx context.Context, k *store.SigningKey, publishUntil time.Time) error {
	err := d.tx(ctx, func(tx *sql.Tx, _ []*sql.Stmt) error {
		// Insert first: a duplicate id must fail before any key is retired.
		if _, err := tx.ExecContext(ctx, `INSERT INTO signing_keys (`+signingKeyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			k.ID, k.Algorithm, k.PrivateKey, k.PublicJWK, micros(k.CreatedAt), micros(k.PublishUntil), k.Purpose); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE signing_keys SET publish_until = ?
			WHERE publish_until IS NULL AND id <> ? AND algorithm = ? AND (purpose = ? OR purpose = '')`,
			micros(publishUntil), k.ID, k.Algorithm, k.Purpose)
		return err
	})
	return d.fail(ctx, "rotate key", err)
}

// SigningKeys returns every key whose PublishUntil is zero or after now, newest first.
func (d *DB) SigningKeys(ctx context.Context, now time.Time) ([]*store.SigningKey, error) {
	rows, err := d.query(ctx, `SELECT `+signingKeyColumns+` FROM signing_keys
		WHERE publish_until IS NULL OR publish_until > ? ORDER BY created_at DESC, id DESC`, now.UnixMicro())
	if err != nil {
		return nil, d.fail(ctx, "signing keys", err)
	}
	defer rows.Close()
	var out []*store.SigningKey
	for rows.Next() {
		var (
			k                       store.SigningKey
			createdAt, publishUntil sql.NullInt64
		)
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.PrivateKey, &k.PublicJWK, &createdAt, &publishUntil, &k.Purpose); err != nil {
			return nil, d.fail(ctx, "signing keys", err)
		}
		k.CreatedAt, k.PublishUntil = fromMicros(createdAt), fromMicros(publishUntil)
		out = append(out, &k)
	}
	if err := rows.Err(); err != nil {
		return nil, d.fail(ctx, "signing keys", err)
	}
	return out, nil
}
