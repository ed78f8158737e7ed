package postgres

import (
	"context"
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
	if limit < 1 {
		return nil, nil
	}
	rows, err := d.pool.Query(ctx, `SELECT occurred_at, type, client_id, subject, ip, detail FROM audit_events
		ORDER BY occurred_at DESC, id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, d.fail(ctx, "audit events", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*store.AuditEvent, error) {
		var (
			e  store.AuditEvent
			at pgtype.Timestamptz
		)
		if err := r.Scan(&at, &e.Type, &e.ClientID, &e.Subject, &e.IP, &e.Detail); err != nil {
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
