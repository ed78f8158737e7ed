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
		{"QueryFiltersAndPages", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			// Ten events; 3 and 4 share a time; the odd ones are "login.failed" of client-a.
			var evs []*store.AuditEvent
			for m := 1; m <= 10; m++ {
				e := auditEvent(m)
				if m == 4 {
					e.Time = auditEvent(3).Time
				}
				e.Type, e.ClientID = "token.issued", "client-b"
				if m%2 == 1 {
					e.Type, e.ClientID = "login.failed", "client-a"
				}
				evs = append(evs, e)
			}
			wantErr(t, "AppendAudit", s.AppendAudit(ctx, evs), nil)
			minutes := func(es []*store.AuditEvent) []int {
				var out []int
				for _, e := range es {
					var m int
					fmt.Sscanf(e.Subject, "subject-%d", &m)
					out = append(out, m)
				}
				return out
			}
			tests := []struct {
				name string
				q    store.AuditQuery
				want []int
			}{
				{"all", store.AuditQuery{Limit: 100}, []int{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}},
				{"type", store.AuditQuery{Type: "login.failed", Limit: 100}, []int{9, 7, 5, 3, 1}},
				{"client", store.AuditQuery{ClientID: "client-b", Limit: 100}, []int{10, 8, 6, 4, 2}},
				{"subject", store.AuditQuery{Subject: "subject-7", Limit: 100}, []int{7}},
				{"ip", store.AuditQuery{IP: "2001:db8::2", Limit: 100}, []int{2}},
				{"time range", store.AuditQuery{Since: auditEvent(3).Time, Until: auditEvent(6).Time, Limit: 100}, []int{5, 4, 3}},
				{"type and range", store.AuditQuery{Type: "token.issued", Since: auditEvent(5).Time, Limit: 100}, []int{10, 8, 6}},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					got, err := s.QueryAudit(ctx, tc.q)
					wantErr(t, "QueryAudit", err, nil)
					if g := minutes(got); fmt.Sprint(g) != fmt.Sprint(tc.want) {
						t.Fatalf("QueryAudit = %v, want %v", g, tc.want)
					}
				})
			}
			// Pages of three, with the cursor from each page's last event,
			// across the two events that share a time.
			var all []int
			q := store.AuditQuery{Limit: 3}
			for range 10 {
				page, err := s.QueryAudit(ctx, q)
				wantErr(t, "QueryAudit page", err, nil)
				if len(page) == 0 {
					break
				}
				all = append(all, minutes(page)...)
				last := page[len(page)-1]
				q.Before = &store.AuditCursor{Time: last.Time, ID: last.ID}
			}
			if fmt.Sprint(all) != fmt.Sprint([]int{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}) {
				t.Fatalf("paged through %v", all)
			}
		}},
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
						if got[i].ID <= 0 || (i > 0 && got[i].ID == got[i-1].ID) {
							t.Fatalf("event %d has id %d: ids must be assigned and distinct", i, got[i].ID)
						}
						w := wantAudit(auditEvent(m))
						w.ID = got[i].ID
						mustEqual(t, fmt.Sprintf("event %d", i), got[i], w)
					}
				})
			}
		}},
	}
}
