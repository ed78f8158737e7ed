package postgres

import (
	"context"
	"time"
)

// PurgeExpired deletes up to limit expired rows of each kind, oldest first, each
// kind in its own statement so locks are short. SKIP LOCKED keeps a purge from
// queueing behind a redemption or rotation that holds a row.
func (d *DB) PurgeExpired(ctx context.Context, now time.Time, limit int) (int, error) {
	if limit < 1 {
		return 0, nil
	}
	queries := []string{
		`DELETE FROM access_tokens WHERE hash IN (SELECT hash FROM access_tokens
			WHERE expires_at < $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
		`DELETE FROM revocations WHERE id IN (SELECT id FROM revocations
			WHERE expires_at < $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
		`DELETE FROM auth_codes WHERE hash IN (SELECT hash FROM auth_codes
			WHERE expires_at < $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
		`DELETE FROM refresh_tokens WHERE hash IN (SELECT hash FROM refresh_tokens
			WHERE expires_at < $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
		`DELETE FROM sessions WHERE hash IN (SELECT hash FROM sessions
			WHERE expires_at < $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
		`DELETE FROM signing_keys WHERE id IN (SELECT id FROM signing_keys
			WHERE publish_until < $1 ORDER BY publish_until LIMIT $2 FOR UPDATE SKIP LOCKED)`,
		`DELETE FROM cache_invalidations WHERE id IN (SELECT id FROM cache_invalidations
			WHERE expires_at < $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
		`DELETE FROM registration_tokens WHERE hash IN (SELECT hash FROM registration_tokens
			WHERE expires_at < $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
		`DELETE FROM pushed_requests WHERE hash IN (SELECT hash FROM pushed_requests
			WHERE expires_at < $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
		`DELETE FROM device_authorizations WHERE device_code_hash IN (SELECT device_code_hash FROM device_authorizations
			WHERE expires_at < $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
		`DELETE FROM session_clients WHERE (sid, client_id) IN (SELECT sid, client_id FROM session_clients
			WHERE expires_at < $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
		`DELETE FROM logout_outbox WHERE id IN (SELECT id FROM logout_outbox
			WHERE expires_at < $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
	}
	total := 0
	for _, q := range queries {
		tag, err := d.pool.Exec(ctx, q, atTime(now), limit)
		if err != nil {
			return total, d.fail(ctx, "purge expired", err)
		}
		total += int(tag.RowsAffected())
	}
	return total, nil
}
