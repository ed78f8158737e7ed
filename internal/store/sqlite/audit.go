package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/authd/authd/internal/store"
)

// AppendAudit inserts events in one transaction.
func (d *DB) AppendAudit(ctx context.Context, events []*store.AuditEvent) error {
	if len(events) == 0 {
		return nil
	}
	err := d.tx(ctx, func(_ *sql.Tx, stmts []*sql.Stmt) error {
		for _, e := range events {
			if _, err := stmts[0].ExecContext(ctx, micros(e.Time), e.Type, e.ClientID, e.Subject, e.IP, e.Detail); err != nil {
				return err
			}
		}
		return nil
	}, `INSERT INTO audit_events (occurred_at, type, client_id, subject, ip, detail) VALUES (?, ?, ?, ?, ?, ?)`)
	return d.fail(ctx, "append audit", err)
}

// AuditEvents returns up to limit events, newest first; events with the same time
// come latest-appended first. A limit below 1 returns none.
func (d *DB) AuditEvents(ctx context.Context, limit int) ([]*store.AuditEvent, error) {
	return d.QueryAudit(ctx, store.AuditQuery{Limit: limit})
}

// QueryAudit returns up to q.Limit events matching q, newest first.
func (d *DB) QueryAudit(ctx context.Context, q store.AuditQuery) ([]*store.AuditEvent, error) {
	if q.Limit < 1 {
		return nil, nil
	}
	var where []string
	var args []any
	add := func(cond string, vals ...any) { where = append(where, cond); args = append(args, vals...) }
	if !q.Since.IsZero() {
		add("occurred_at >= ?", q.Since.UnixMicro())
	}
	if !q.Until.IsZero() {
		add("occurred_at < ?", q.Until.UnixMicro())
	}
	for _, f := range []struct{ col, v string }{{"type", q.Type}, {"client_id", q.ClientID}, {"subject", q.Subject}, {"ip", q.IP}} {
		if f.v != "" {
			add(f.col+" = ?", f.v)
		}
	}
	if q.Before != nil {
		t := q.Before.Time.UnixMicro()
		add("(occurred_at < ? OR (occurred_at = ? AND id < ?))", t, t, q.Before.ID)
	}
	query := `SELECT id, occurred_at, type, client_id, subject, ip, detail FROM audit_events`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	// Few shapes (which filters are set), so the statement cache stays small.
	rows, err := d.query(ctx, query+` ORDER BY occurred_at DESC, id DESC LIMIT ?`, append(args, q.Limit)...)
	if err != nil {
		return nil, d.fail(ctx, "audit events", err)
	}
	defer rows.Close()
	var out []*store.AuditEvent
	for rows.Next() {
		var (
			e  store.AuditEvent
			at sql.NullInt64
		)
		if err := rows.Scan(&e.ID, &at, &e.Type, &e.ClientID, &e.Subject, &e.IP, &e.Detail); err != nil {
			return nil, d.fail(ctx, "audit events", err)
		}
		e.Time = fromMicros(at)
		out = append(out, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, d.fail(ctx, "audit events", err)
	}
	return out, nil
}

// PurgeAudit deletes up to limit events older than before.
func (d *DB) PurgeAudit(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit < 1 {
		return 0, nil
	}
	res, err := d.exec(ctx, `DELETE FROM audit_events WHERE id IN
		(SELECT id FROM audit_events WHERE occurred_at < ? ORDER BY occurred_at LIMIT ?)`, before.UnixMicro(), limit)
	if err != nil {
		return 0, d.fail(ctx, "purge audit", err)
	}
	n, err := res.RowsAffected()
	return int(n), d.fail(ctx, "purge audit", err)
}
