package postgres

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/authd/authd/internal/store"
)

// AppendAudit inserts events in one statement (so one transaction): each column
// travels as one array and unnest turns them back into rows, in order.
func (d *DB) AppendAudit(ctx context.Context, events []*store.AuditEvent) error {
	if len(events) == 0 {
		return nil
	}
	var (
		at                                     = make([]pgtype.Timestamptz, len(events))
		types, clients, subjects, ips, details = make([]string, len(events)), make([]string, len(events)),
			make([]string, len(events)), make([]string, len(events)), make([]string, len(events))
	)
	for i, e := range events {
		at[i], types[i], clients[i], subjects[i], ips[i], details[i] =
			nullTime(e.Time), e.Type, e.ClientID, e.Subject, e.IP, e.Detail
	}
	_, err := d.pool.Exec(ctx, `INSERT INTO audit_events (occurred_at, type, client_id, subject, ip, detail)
		SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])`,
		at, types, clients, subjects, ips, details)
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
	add := func(cond string, vals ...any) {
		for _, v := range vals {
			args = append(args, v)
			cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(args)), 1)
		}
		where = append(where, cond)
	}
	if !q.Since.IsZero() {
		add("occurred_at >= ?", atTime(q.Since))
	}
	if !q.Until.IsZero() {
		add("occurred_at < ?", atTime(q.Until))
	}
	for _, f := range []struct{ col, v string }{{"type", q.Type}, {"client_id", q.ClientID}, {"subject", q.Subject}, {"ip", q.IP}} {
		if f.v != "" {
			add(f.col+" = ?", f.v)
		}
	}
	if q.Before != nil {
		t := atTime(q.Before.Time)
		add("(occurred_at < ? OR (occurred_at = ? AND id < ?))", t, t, q.Before.ID)
	}
	query := `SELECT id, occurred_at, type, client_id, subject, ip, detail FROM audit_events`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	args = append(args, q.Limit)
	rows, err := d.pool.Query(ctx, query+` ORDER BY occurred_at DESC, id DESC LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, d.fail(ctx, "audit events", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*store.AuditEvent, error) {
		var (
			e  store.AuditEvent
			at pgtype.Timestamptz
		)
		if err := r.Scan(&e.ID, &at, &e.Type, &e.ClientID, &e.Subject, &e.IP, &e.Detail); err != nil {
			return nil, err
		}
		e.Time = fromTime(at)
		return &e, nil
	})
	if err != nil {
		return nil, d.fail(ctx, "audit events", err)
	}
	return out, nil
}

// PurgeAudit deletes up to limit events older than before.
func (d *DB) PurgeAudit(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit < 1 {
		return 0, nil
	}
	tag, err := d.pool.Exec(ctx, `DELETE FROM audit_events WHERE id IN
		(SELECT id FROM audit_events WHERE occurred_at < $1 ORDER BY occurred_at LIMIT $2)`, nullTime(before), limit)
	if err != nil {
		return 0, d.fail(ctx, "purge audit", err)
	}
	return int(tag.RowsAffected()), nil
}
