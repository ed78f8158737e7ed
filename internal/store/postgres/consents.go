package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// GrantConsent adds scopes to what subject granted client. One row per scope
// makes the union an INSERT that ignores rows already there.
func (d *DB) GrantConsent(ctx context.Context, subject, clientID string, scopes []string, now time.Time) error {
	if len(scopes) == 0 {
		return nil
	}
	_, err := d.pool.Exec(ctx, `INSERT INTO consents (subject, client_id, scope, granted_at)
		SELECT $1, $2, s, $4 FROM unnest($3::text[]) AS s
		ON CONFLICT (subject, client_id, scope) DO NOTHING`, subject, clientID, scopes, nullTime(now))
	return d.fail(ctx, "grant consent", err)
}

// Consent returns the scopes subject granted client, sorted; empty if none.
func (d *DB) Consent(ctx context.Context, subject, clientID string) ([]string, error) {
	rows, err := d.pool.Query(ctx, `SELECT scope FROM consents WHERE subject = $1 AND client_id = $2
		ORDER BY scope COLLATE "C"`, subject, clientID)
	if err != nil {
		return nil, d.fail(ctx, "consent", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, d.fail(ctx, "consent", err)
	}
	return unlist(out), nil
}
