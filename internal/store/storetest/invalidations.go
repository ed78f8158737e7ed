package storetest

import (
	"testing"
	"time"

	"github.com/authd/authd/internal/store"
)

func invalidationCases() []testCase {
	return []testCase{
		{"PendingOldestFirstUntilExpiryThenDeleted", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			now := wantTime(t0())
			add := []*store.Invalidation{
				{Keys: []string{"at:a", "rev:b"}, CreatedAt: now, ExpiresAt: now.Add(time.Minute)},
				{Keys: []string{"client:c ✓"}, CreatedAt: now.Add(time.Second), ExpiresAt: now.Add(2 * time.Minute)},
				{Keys: []string{"old"}, CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(-time.Microsecond)},
				{Keys: []string{"at-now"}, CreatedAt: now, ExpiresAt: now},
			}
			for _, inv := range add {
				wantErr(t, "AddInvalidation", s.AddInvalidation(ctx, inv), nil)
			}
			got, err := s.PendingInvalidations(ctx, now, 0, 10)
			wantErr(t, "PendingInvalidations", err, nil)
			want := []*store.Invalidation{add[0], add[1], add[3]} // insertion order; the expired one is not pending
			if len(got) != len(want) {
				t.Fatalf("PendingInvalidations returned %d records, want %d: %s", len(got), len(want), show(got))
			}
			ids := map[int64]bool{}
			for i, g := range got {
				if ids[g.ID] || g.ID == 0 {
					t.Fatalf("record %d has id %d: ids must be distinct and assigned", i, g.ID)
				}
				ids[g.ID] = true
				w := *want[i]
				w.ID = g.ID
				w.CreatedAt, w.ExpiresAt = wantTime(w.CreatedAt), wantTime(w.ExpiresAt)
				mustEqual(t, "pending invalidation", g, &w)
			}
			limited, err := s.PendingInvalidations(ctx, now, 0, 1)
			wantErr(t, "PendingInvalidations limit 1", err, nil)
			if len(limited) != 1 || limited[0].ID != got[0].ID {
				t.Fatalf("PendingInvalidations(limit 1) = %s, want the oldest", show(limited))
			}
			next, err := s.PendingInvalidations(ctx, now, got[0].ID, 1)
			wantErr(t, "PendingInvalidations after the first", err, nil)
			if len(next) != 1 || next[0].ID != got[1].ID {
				t.Fatalf("PendingInvalidations(after %d, limit 1) = %s, want the second", got[0].ID, show(next))
			}
			wantErr(t, "DeleteInvalidations", s.DeleteInvalidations(ctx, []int64{got[0].ID, got[2].ID, 1 << 40}), nil)
			wantErr(t, "DeleteInvalidations none", s.DeleteInvalidations(ctx, nil), nil)
			left, err := s.PendingInvalidations(ctx, now, 0, 10)
			wantErr(t, "PendingInvalidations after delete", err, nil)
			if len(left) != 1 || left[0].ID != got[1].ID {
				t.Fatalf("after delete: %s, want only the second record", show(left))
			}
		}},
	}
}

func scopeDescriptionCases() []testCase {
	return []testCase{
		{"SetReplaceDelete", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			got, err := s.ScopeDescriptions(ctx)
			wantErr(t, "ScopeDescriptions empty", err, nil)
			if len(got) != 0 {
				t.Fatalf("ScopeDescriptions on an empty store: %v", got)
			}
			wantErr(t, "Set", s.SetScopeDescription(ctx, "read", "Read your files", t0()), nil)
			wantErr(t, "Set", s.SetScopeDescription(ctx, "write:all", "Change ✓ everything", t0()), nil)
			wantErr(t, "Replace", s.SetScopeDescription(ctx, "read", "Read your documents", t0()), nil)
			got, err = s.ScopeDescriptions(ctx)
			wantErr(t, "ScopeDescriptions", err, nil)
			mustEqual(t, "descriptions", got, map[string]string{"read": "Read your documents", "write:all": "Change ✓ everything"})
			wantErr(t, "Delete", s.DeleteScopeDescription(ctx, "read"), nil)
			wantErr(t, "Delete again", s.DeleteScopeDescription(ctx, "read"), store.ErrNotFound)
			got, err = s.ScopeDescriptions(ctx)
			wantErr(t, "ScopeDescriptions after delete", err, nil)
			mustEqual(t, "descriptions after delete", got, map[string]string{"write:all": "Change ✓ everything"})
		}},
	}
}
