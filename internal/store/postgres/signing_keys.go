package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/authd/authd/internal/store"
)

const signingKeyColumns = `id, algorithm, private_key, public_jwk, created_at, publish_until, purpose`

// RotateKey inserts k and retires every other current key of its algorithm and purpose
// (or of no purpose) at publishUntil, in one transaction; ErrConflict if k.ID exists.
func (d *DB) RotateKey(ctx context.Context, k *store.SigningKey, publishUntil time.Time) error {
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		// Rotations from two replicas must not each miss the other's new key and
		// leave two current keys; this mode serializes writers, not JWKS readers.
		if _, err := tx.Exec(ctx, `LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO signing_keys (`+signingKeyColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			k.ID, k.Algorithm, k.PrivateKey, k.PublicJWK, nullTime(k.CreatedAt), nullTime(k.PublishUntil), k.Purpose); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE signing_keys SET publish_until = $2
			WHERE publish_until IS NULL AND id <> $1 AND algorithm = $3 AND (purpose = $4 OR purpose = '')`,
			k.ID, nullTime(publishUntil), k.Algorithm, k.Purpose)
		return err
	})
	return d.fail(ctx, "rotate key", err)
}

// SigningKeys returns every key whose PublishUntil is zero or after now, newest first.
func (d *DB) SigningKeys(ctx context.Context, now time.Time) ([]*store.SigningKey, error) {
	rows, err := d.pool.Query(ctx, `SELECT `+signingKeyColumns+` FROM signing_keys
		WHERE publish_until IS NULL OR publish_until > $1
		ORDER BY created_at DESC NULLS LAST, id DESC`, atTime(now))
	if err != nil {
		return nil, d.fail(ctx, "signing keys", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*store.SigningKey, error) {
		var (
			k                       store.SigningKey
			createdAt, publishUntil pgtype.Timestamptz
		)
		if err := r.Scan(&k.ID, &k.Algorithm, &k.PrivateKey, &k.PublicJWK, &createdAt, &publishUntil, &k.Purpose); err != nil {
			return nil, err
		}
		k.CreatedAt, k.PublishUntil = fromTime(createdAt), fromTime(publishUntil)
		return &k, nil
	})
	if err != nil {
		return nil, d.fail(ctx, "signing keys", err)
	}
	return out, nil
}
