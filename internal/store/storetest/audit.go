package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/authd/authd/internal/store"
)

func auditEvent(minute int) *store.AuditEvent {
	return &store.AuditEvent{
		Time:     t0().Add(time.Duration(minute)*time.Minute + 333*time.Nanosecond),
		Type:     fmt.Sprintf("type.%d", minute),
		ClientID: fmt.Sprintf("client-%d", minute),
		Subject:  fmt.Sprintf("subject-%d", minute),
		IP:       fmt.Sprintf("2001:db8::%d", minute),
		Detail:   fmt.Sprintf(`{"n":%d,"note":"ünïcode"}`, minute),
	}
}

func auditCases() []testCase {
	return []testCase{
		{"PurgeAuditByAgeInBatches", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			var evs []*store.AuditEvent
			for m := 1; m <= 5; m++ {
				evs = append(evs, auditEvent(m))
			}
			wantErr(t, "AppendAudit", s.AppendAudit(ctx, evs), nil)
			before := t0().Add(4 * time.Minute) // events 1, 2, 3 are older
			n, err := s.PurgeAudit(ctx, before, 2)
			wantErr(t, "PurgeAudit", err, nil)
			if n != 2 {
				t.Fatalf("first batch deleted %d, want 2 (the limit)", n)
			}
			n, err = s.PurgeAudit(ctx, before, 2)
			wantErr(t, "PurgeAudit", err, nil)
			if n != 1 {
				t.Fatalf("second batch deleted %d, want 1", n)
			}
			if n, _ := s.PurgeAudit(ctx, before, 2); n != 0 {
				t.Fatalf("third batch deleted %d, want 0", n)
			}
			got, err := s.AuditEvents(ctx, 10)
			wantErr(t, "AuditEvents", err, nil)
			if len(got) != 2 || got[0].Type != "type.5" || got[1].Type != "type.4" {
				t.Fatalf("left after purge: %v", got)
			}
		}},
		{"NewestFirstWithLimit", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			got, err := s.AuditEvents(ctx, 10)
			wantErr(t, "AuditEvents empty", err, nil)
			if len(got) != 0 {
				t.Fatalf("AuditEvents on empty store: %d events", len(got))
			}
			wantErr(t, "AppendAudit empty", s.AppendAudit(ctx, nil), nil)
			// Appended out of time order, across two calls.
			wantErr(t, "AppendAudit", s.AppendAudit(ctx, []*store.AuditEvent{auditEvent(3), auditEvent(1), auditEvent(5)}), nil)
			wantErr(t, "AppendAudit", s.AppendAudit(ctx, []*store.AuditEvent{auditEvent(2), auditEvent(4)}), nil)
			tests := []struct {
				limit int
				want  []int
			}{
				{10, []int{5, 4, 3, 2, 1}},
				{5, []int{5, 4, 3, 2, 1}},
				{2, []int{5, 4}},
				{1, []int{5}},
			}
			for _, tc := range tests {
				t.Run(fmt.Sprintf("limit %d", tc.limit), func(t *testing.T) {
					got, err := s.AuditEvents(ctx, tc.limit)
					wantErr(t, "AuditEvents", err, nil)
					if len(got) != len(tc.want) {
						t.Fatalf("AuditEvents(%d) returned %d events, want %d", tc.limit, len(got), len(tc.want))
					}
					for i, m := range tc.want {
						mustEqual(t, fmt.Sprintf("event %d", i), got[i], wantAudit(auditEvent(m)))
					}
				})
			}
		}},
	}
}
