package sqlite

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"

	"github.com/authd/authd/internal/store"
)

// AddSessionClient records sc, keeping the later expiry of a pair recorded again.
func (d *DB) AddSessionClient(ctx context.Context, sc *store.SessionClient) error {
	_, err := d.exec(ctx, `INSERT INTO session_clients (sid, client_id, subject, expires_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (sid, client_id) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)`,
		sc.SID, sc.ClientID, sc.Subject, sc.ExpiresAt.UnixMicro())
	return d.fail(ctx, "add session client", err)
}

// SessionClients returns the clients of sids (nil: every session) of subject.
func (d *DB) SessionClients(ctx context.Context, subject string, sids []string) ([]*store.SessionClient, error) {
	if sids != nil && len(sids) == 0 {
		return nil, nil
	}
	ids, err := encodeList(sids)
	if err != nil {
		return nil, d.fail(ctx, "session clients", err)
	}
	rows, err := d.query(ctx, `SELECT sid, client_id, subject, expires_at FROM session_clients
		WHERE subject = ? AND (? = 0 OR sid IN (SELECT value FROM json_each(?)))
		ORDER BY sid, client_id`, subject, len(sids), ids)
	if err != nil {
		return nil, d.fail(ctx, "session clients", err)
	}
	defer rows.Close()
	var out []*store.SessionClient
	for rows.Next() {
		var (
			sc  store.SessionClient
			exp sql.NullInt64
		)
		if err := rows.Scan(&sc.SID, &sc.ClientID, &sc.Subject, &exp); err != nil {
			return nil, d.fail(ctx, "session clients", err)
		}
		sc.ExpiresAt = fromMicros(exp)
		out = append(out, &sc)
	}
	return out, d.fail(ctx, "session clients", rows.Err())
}

// EnqueueLogouts inserts ns and forgets the clients of endedSIDs in one transaction.
func (d *DB) EnqueueLogouts(ctx context.Context, subject string, endedSIDs []string, ns []*store.LogoutNotification) error {
	ids, err := encodeList(endedSIDs)
	if err != nil {
		return d.fail(ctx, "enqueue logouts", err)
	}
	err = d.tx(ctx, func(_ *sql.Tx, stmts []*sql.Stmt) error {
		for _, n := range ns {
			if _, err := stmts[0].ExecContext(ctx, n.ID, n.ClientID, n.Subject, n.SID, n.CreatedAt.UnixMicro(),
				n.ExpiresAt.UnixMicro(), n.NextAttemptAt.UnixMicro()); err != nil {
				return err
			}
		}
		if len(endedSIDs) == 0 {
			return nil
		}
		_, err := stmts[1].ExecContext(ctx, subject, ids)
		return err
	},
		`INSERT INTO logout_outbox (id, client_id, subject, sid, created_at, expires_at, next_attempt_at, attempts)
			VALUES (?, ?, ?, ?, ?, ?, ?, 0)`,
		`DELETE FROM session_clients WHERE subject = ? AND sid IN (SELECT value FROM json_each(?))`)
	return d.fail(ctx, "enqueue logouts", err)
}

const logoutColumns = `id, client_id, subject, sid, created_at, expires_at, next_attempt_at, attempts, lease_until`

// ClaimLogouts leases due rows in one statement: the single writer makes the
// select and the update one step, so concurrent claimers never share a row.
func (d *DB) ClaimLogouts(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*store.LogoutNotification, error) {
	if limit < 1 {
		return nil, nil
	}
	s, err := d.stmt(ctx, d.w, `UPDATE logout_outbox SET lease_until = ?, attempts = attempts + 1
		WHERE id IN (SELECT id FROM logout_outbox
			WHERE next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?) AND expires_at > ?
			ORDER BY next_attempt_at, id LIMIT ?)
		RETURNING `+logoutColumns)
	if err != nil {
		return nil, d.fail(ctx, "claim logouts", err)
	}
	at := now.UnixMicro()
	rows, err := s.QueryContext(ctx, now.Add(lease).UnixMicro(), at, at, at, limit)
	if err != nil {
		return nil, d.fail(ctx, "claim logouts", err)
	}
	defer rows.Close()
	var out []*store.LogoutNotification
	for rows.Next() {
		var (
			n                          store.LogoutNotification
			created, expires, next, lu sql.NullInt64
		)
		if err := rows.Scan(&n.ID, &n.ClientID, &n.Subject, &n.SID, &created, &expires, &next, &n.Attempts, &lu); err != nil {
			return nil, d.fail(ctx, "claim logouts", err)
		}
		n.CreatedAt, n.ExpiresAt, n.NextAttemptAt, n.LeaseUntil = fromMicros(created), fromMicros(expires), fromMicros(next), fromMicros(lu)
		out = append(out, &n)
	}
	if err := rows.Err(); err != nil {
		return nil, d.fail(ctx, "claim logouts", err)
	}
	// RETURNING gives no order; callers expect oldest due first.
	sortLogouts(out)
	return out, nil
}

func sortLogouts(ns []*store.LogoutNotification) {
	slices.SortFunc(ns, func(a, b *store.LogoutNotification) int {
		if c := a.NextAttemptAt.Compare(b.NextAttemptAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// AckLogout deletes a notification.
func (d *DB) AckLogout(ctx context.Context, id string) error {
	_, err := d.exec(ctx, `DELETE FROM logout_outbox WHERE id = ?`, id)
	return d.fail(ctx, "ack logout", err)
}

// RetryLogout makes n due at next if it is still leased as claimed.
func (d *DB) RetryLogout(ctx context.Context, n *store.LogoutNotification, next time.Time) error {
	return d.fail(ctx, "retry logout", rowsAffected(d.exec(ctx,
		`UPDATE logout_outbox SET next_attempt_at = ?, lease_until = NULL WHERE id = ? AND lease_until = ?`,
		next.UnixMicro(), n.ID, n.LeaseUntil.UnixMicro())))
}
