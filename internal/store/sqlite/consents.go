package sqlite

import (
	"context"
	"time"
)

// GrantConsent adds scopes to what subject granted client. One row per scope
// makes the union an INSERT that ignores rows already there.
func (d *DB) GrantConsent(ctx context.Context, subject, clientID string, scopes []string, now time.Time) error {
	if len(scopes) == 0 {
		return nil
	}
	list, err := encodeList(scopes)
	if err != nil {
		return d.fail(ctx, "grant consent", err)
	}
	// "WHERE true" resolves SQLite's parsing ambiguity between an upsert clause
	// and a join after INSERT ... SELECT.
	_, err = d.exec(ctx, `INSERT INTO consents (subject, client_id, scope, granted_at)
		SELECT ?, ?, value, ? FROM json_each(?) WHERE true
		ON CONFLICT (subject, client_id, scope) DO NOTHING`, subject, clientID, micros(now), list)
	return d.fail(ctx, "grant consent", err)
}

// Consent returns the scopes subject granted client, sorted; empty if none.
func (d *DB) Consent(ctx context.Context, subject, clientID string) ([]string, error) {
	rows, err := d.query(ctx, `SELECT scope FROM consents WHERE subject = ? AND client_id = ? ORDER BY scope`,
		subject, clientID)
	if err != nil {
		return nil, d.fail(ctx, "consent", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, d.fail(ctx, "consent", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, d.fail(ctx, "consent", err)
	}
	return out, nil
}
