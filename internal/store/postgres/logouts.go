package postgres

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/authd/authd/internal/store"
)

// AddSessionClient records sc, keeping the later expiry of a pair recorded again.
func (d *DB) AddSessionClient(ctx context.Context, sc *store.SessionClient) error {
	_, err := d.pool.Exec(ctx, `INSERT INTO session_clients (sid, client_id, subject, expires_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (sid, client_id) DO UPDATE SET expires_at = GREATEST(session_clients.expires_at, excluded.expires_at)`,
		sc.SID, sc.ClientID, sc.Subject, atTime(sc.ExpiresAt))
	return d.fail(ctx, "add session client", err)
}

// SessionClients returns the clients of sids (nil: every session) of subject.
func (d *DB) SessionClients(ctx context.Context, subject string, sids []string) ([]*store.SessionClient, error) {
	if sids != nil && len(sids) == 0 {
		return nil, nil
	}
	rows, err := d.pool.Query(ctx, `SELECT sid, client_id, subject, expires_at FROM session_clients
		WHERE subject = $1 AND ($2::text[] IS NULL OR sid = ANY($2)) ORDER BY sid, client_id`, subject, sids)
	if err != nil {
		return nil, d.fail(ctx, "session clients", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*store.SessionClient, error) {
		var (
			sc  store.SessionClient
			exp pgtype.Timestamptz
		)
		if err := r.Scan(&sc.SID, &sc.ClientID, &sc.Subject, &exp); err != nil {
			return nil, err
		}
		sc.ExpiresAt = fromTime(exp)
		return &sc, nil
	})
	if err != nil {
		return nil, d.fail(ctx, "session clients", err)
	}
	return out, nil
}

// EnqueueLogouts inserts ns and forgets the clients of endedSIDs in one transaction.
func (d *DB) EnqueueLogouts(ctx context.Context, subject string, endedSIDs []string, ns []*store.LogoutNotification) error {
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		for _, n := range ns {
			if _, err := tx.Exec(ctx, `INSERT INTO logout_outbox
				(id, client_id, subject, sid, created_at, expires_at, next_attempt_at, attempts)
				VALUES ($1, $2, $3, $4, $5, $6, $7, 0)`,
				n.ID, n.ClientID, n.Subject, n.SID, atTime(n.CreatedAt), atTime(n.ExpiresAt), atTime(n.NextAttemptAt)); err != nil {
				return err
			}
		}
		if len(endedSIDs) == 0 {
			return nil
		}
		_, err := tx.Exec(ctx, `DELETE FROM session_clients WHERE subject = $1 AND sid = ANY($2)`, subject, endedSIDs)
		return err
	})
	return d.fail(ctx, "enqueue logouts", err)
}

const logoutColumns = `id, client_id, subject, sid, created_at, expires_at, next_attempt_at, attempts, lease_until`

// ClaimLogouts leases due rows in one statement. FOR UPDATE SKIP LOCKED makes
// concurrent claimers pass over each other's rows instead of queueing on
// them, and the outer conditions are re-checked on the locked row.
func (d *DB) ClaimLogouts(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*store.LogoutNotification, error) {
	if limit < 1 {
		return nil, nil
	}
	rows, err := d.pool.Query(ctx, `UPDATE logout_outbox SET lease_until = $1, attempts = attempts + 1
		WHERE id IN (SELECT id FROM logout_outbox
			WHERE next_attempt_at <= $2 AND (lease_until IS NULL OR lease_until <= $2) AND expires_at > $2
			ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
		RETURNING `+logoutColumns, atTime(now.Add(lease)), atTime(now), limit)
	if err != nil {
		return nil, d.fail(ctx, "claim logouts", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*store.LogoutNotification, error) {
		var (
			n                          store.LogoutNotification
			created, expires, next, lu pgtype.Timestamptz
			attempts                   int64
		)
		if err := r.Scan(&n.ID, &n.ClientID, &n.Subject, &n.SID, &created, &expires, &next, &attempts, &lu); err != nil {
			return nil, err
		}
		n.Attempts = int(attempts)
		n.CreatedAt, n.ExpiresAt, n.NextAttemptAt, n.LeaseUntil = fromTime(created), fromTime(expires), fromTime(next), fromTime(lu)
		return &n, nil
	})
	if err != nil {
		return nil, d.fail(ctx, "claim logouts", err)
	}
	// RETURNING gives no order; callers expect oldest due first.
	slices.SortFunc(out, func(a, b *store.LogoutNotification) int {
		if c := a.NextAttemptAt.Compare(b.NextAttemptAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// AckLogout deletes a notification.
func (d *DB) AckLogout(ctx context.Context, id string) error {
	_, err := d.pool.Exec(ctx, `DELETE FROM logout_outbox WHERE id = $1`, id)
	return d.fail(ctx, "ack logout", err)
}

// RetryLogout makes n due at next if it is still leased as claimed.
func (d *DB) RetryLogout(ctx context.Context, n *store.LogoutNotification, next time.Time) error {
	return d.fail(ctx, "retry logout", affected(d.pool.Exec(ctx,
		`UPDATE logout_outbox SET next_attempt_at = $1, lease_until = NULL WHERE id = $2 AND lease_until = $3`,
		atTime(next), n.ID, atTime(n.LeaseUntil))))
}
