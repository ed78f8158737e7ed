package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/internal/store"
)

func logoutNotification(name string) *store.LogoutNotification {
	return &store.LogoutNotification{
		ID:            "logout-" + name,
		ClientID:      "client-" + name,
		Subject:       "subject",
		SID:           "sid-" + name,
		CreatedAt:     t0(),
		ExpiresAt:     t0().Add(time.Hour),
		NextAttemptAt: t0(),
	}
}

func wantLogout(n *store.LogoutNotification, attempts int, leaseUntil time.Time) *store.LogoutNotification {
	x := *n
	x.CreatedAt, x.ExpiresAt, x.NextAttemptAt = wantTime(n.CreatedAt), wantTime(n.ExpiresAt), wantTime(n.NextAttemptAt)
	x.Attempts, x.LeaseUntil = attempts, wantTime(leaseUntil)
	return &x
}

func logoutIDs(ns []*store.LogoutNotification) []string {
	ids := make([]string, len(ns))
	for i, n := range ns {
		ids[i] = n.ID
	}
	return ids
}

func logoutCases() []testCase {
	return []testCase{
		{"SessionClients", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			add := func(sid, client, subject string, exp time.Time) {
				t.Helper()
				wantErr(t, "AddSessionClient", s.AddSessionClient(ctx, &store.SessionClient{
					SID: sid, ClientID: client, Subject: subject, ExpiresAt: exp}), nil)
			}
			add("s2", "c1", "alice", t0().Add(time.Hour))
			add("s1", "c2", "alice", t0().Add(time.Hour))
			add("s1", "c1", "alice", t0().Add(2*time.Hour))
			add("s1", "c1", "alice", t0().Add(time.Hour)) // again, earlier: the later expiry stays
			add("s3", "c1", "bob", t0().Add(time.Hour))
			got, err := s.SessionClients(ctx, "alice", []string{"s1"})
			wantErr(t, "SessionClients", err, nil)
			mustEqual(t, "clients of s1", got, []*store.SessionClient{
				{SID: "s1", ClientID: "c1", Subject: "alice", ExpiresAt: wantTime(t0().Add(2 * time.Hour))},
				{SID: "s1", ClientID: "c2", Subject: "alice", ExpiresAt: wantTime(t0().Add(time.Hour))},
			})
			got, err = s.SessionClients(ctx, "alice", nil)
			wantErr(t, "SessionClients", err, nil)
			if len(got) != 3 || got[2].SID != "s2" {
				t.Fatalf("every session of alice: got %s", show(got))
			}
			// Another subject's session is not reachable by naming its sid.
			got, err = s.SessionClients(ctx, "alice", []string{"s3"})
			wantErr(t, "SessionClients", err, nil)
			if len(got) != 0 {
				t.Fatalf("bob's session under alice: got %s", show(got))
			}
			got, err = s.SessionClients(ctx, "alice", []string{})
			wantErr(t, "SessionClients", err, nil)
			if len(got) != 0 {
				t.Fatalf("no sids: got %s", show(got))
			}
		}},
		{"EnqueueForgetsEndedSessions", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			for _, sid := range []string{"s1", "s2"} {
				wantErr(t, "AddSessionClient", s.AddSessionClient(ctx, &store.SessionClient{
					SID: sid, ClientID: "c", Subject: "subject", ExpiresAt: t0().Add(time.Hour)}), nil)
			}
			a, b := logoutNotification("a"), logoutNotification("b")
			wantErr(t, "EnqueueLogouts", s.EnqueueLogouts(ctx, "subject", []string{"s1"}, []*store.LogoutNotification{a, b}), nil)
			got, err := s.SessionClients(ctx, "subject", nil)
			wantErr(t, "SessionClients", err, nil)
			if len(got) != 1 || got[0].SID != "s2" {
				t.Fatalf("after ending s1: got %s", show(got))
			}
			// A conflicting id rolls the whole call back: s2 is kept.
			wantErr(t, "EnqueueLogouts again", s.EnqueueLogouts(ctx, "subject", []string{"s2"},
				[]*store.LogoutNotification{logoutNotification("c"), a}), store.ErrConflict)
			got, err = s.SessionClients(ctx, "subject", nil)
			wantErr(t, "SessionClients", err, nil)
			if len(got) != 1 {
				t.Fatalf("failed enqueue forgot s2: got %s", show(got))
			}
			claimed, err := s.ClaimLogouts(ctx, t0(), time.Minute, 10)
			wantErr(t, "ClaimLogouts", err, nil)
			if ids := logoutIDs(claimed); !slices.Equal(ids, []string{"logout-a", "logout-b"}) {
				t.Fatalf("claimed %q, want a and b only", ids)
			}
		}},
		{"ClaimLeasesAndAck", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			a, b, later, old := logoutNotification("a"), logoutNotification("b"), logoutNotification("later"), logoutNotification("old")
			b.NextAttemptAt = t0().Add(-time.Second) // due before a
			later.NextAttemptAt = t0().Add(time.Minute)
			old.ExpiresAt = t0() // at its maximum age: never claimed
			wantErr(t, "EnqueueLogouts", s.EnqueueLogouts(ctx, "subject", nil, []*store.LogoutNotification{a, b, later, old}), nil)
			got, err := s.ClaimLogouts(ctx, t0(), time.Minute, 10)
			wantErr(t, "ClaimLogouts", err, nil)
			lease := t0().Add(time.Minute)
			mustEqual(t, "claimed", got, []*store.LogoutNotification{wantLogout(b, 1, lease), wantLogout(a, 1, lease)})
			// Leased: nobody else gets them until the lease ends.
			again, err := s.ClaimLogouts(ctx, t0().Add(30*time.Second), time.Minute, 10)
			wantErr(t, "ClaimLogouts during lease", err, nil)
			if len(again) != 0 {
				t.Fatalf("claimed during the lease: %q", logoutIDs(again))
			}
			wantErr(t, "AckLogout", s.AckLogout(ctx, a.ID), nil)
			wantErr(t, "AckLogout absent", s.AckLogout(ctx, a.ID), nil)
			// After the lease (a worker that died), b is claimed again with a
			// second attempt counted, and later has come due.
			again, err = s.ClaimLogouts(ctx, lease, time.Minute, 10)
			wantErr(t, "ClaimLogouts after lease", err, nil)
			lease2 := lease.Add(time.Minute)
			mustEqual(t, "reclaimed", again, []*store.LogoutNotification{wantLogout(b, 2, lease2), wantLogout(later, 1, lease2)})
			// limit is honoured.
			wantErr(t, "EnqueueLogouts", s.EnqueueLogouts(ctx, "subject", nil, []*store.LogoutNotification{logoutNotification("x"), logoutNotification("y")}), nil)
			one, err := s.ClaimLogouts(ctx, t0(), time.Minute, 1)
			wantErr(t, "ClaimLogouts limit", err, nil)
			if len(one) != 1 {
				t.Fatalf("limit 1: claimed %q", logoutIDs(one))
			}
		}},
		{"RetrySchedules", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			a := logoutNotification("a")
			wantErr(t, "EnqueueLogouts", s.EnqueueLogouts(ctx, "subject", nil, []*store.LogoutNotification{a}), nil)
			got, err := s.ClaimLogouts(ctx, t0(), time.Minute, 10)
			wantErr(t, "ClaimLogouts", err, nil)
			next := t0().Add(10 * time.Second)
			wantErr(t, "RetryLogout", s.RetryLogout(ctx, got[0], next), nil)
			// Released but not yet due.
			none, err := s.ClaimLogouts(ctx, next.Add(-time.Microsecond), time.Minute, 10)
			wantErr(t, "ClaimLogouts before next", err, nil)
			if len(none) != 0 {
				t.Fatalf("claimed before its next attempt: %q", logoutIDs(none))
			}
			// The stale claim no longer holds the lease: its retry changes nothing.
			wantErr(t, "RetryLogout with a stale lease", s.RetryLogout(ctx, got[0], t0()), store.ErrNotFound)
			due, err := s.ClaimLogouts(ctx, next, time.Minute, 10)
			wantErr(t, "ClaimLogouts at next", err, nil)
			want := *a
			want.NextAttemptAt = next
			mustEqual(t, "due again", due, []*store.LogoutNotification{wantLogout(&want, 2, next.Add(time.Minute))})
			wantErr(t, "RetryLogout absent", s.RetryLogout(ctx, logoutNotification("nope"), next), store.ErrNotFound)
		}},
		{"ConcurrentClaimsShareNothing", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			const rows = 40
			ns := make([]*store.LogoutNotification, rows)
			for i := range ns {
				ns[i] = logoutNotification(fmt.Sprintf("%02d", i))
			}
			wantErr(t, "EnqueueLogouts", s.EnqueueLogouts(ctx, "subject", nil, ns), nil)
			var (
				mu   sync.Mutex
				seen = map[string]int{}
			)
			errs := race(func(int) error {
				got, err := s.ClaimLogouts(ctx, t0(), time.Minute, 5)
				mu.Lock()
				defer mu.Unlock()
				for _, n := range got {
					seen[n.ID]++
				}
				return err
			})
			for _, err := range errs {
				if err != nil && !errors.Is(err, store.ErrUnavailable) {
					t.Fatalf("ClaimLogouts: %v", err)
				}
			}
			for id, n := range seen {
				if n != 1 {
					t.Errorf("%s claimed %d times", id, n)
				}
			}
			// Whatever a failed claimer did not get is still there for the next.
			rest, err := s.ClaimLogouts(ctx, t0(), time.Minute, rows)
			wantErr(t, "ClaimLogouts rest", err, nil)
			if len(seen)+len(rest) != rows {
				t.Fatalf("claimed %d concurrently and %d after, want %d in all", len(seen), len(rest), rows)
			}
		}},
		{"Purge", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			old, fresh := logoutNotification("old"), logoutNotification("fresh")
			old.ExpiresAt = t0().Add(-time.Second)
			wantErr(t, "EnqueueLogouts", s.EnqueueLogouts(ctx, "subject", nil, []*store.LogoutNotification{old, fresh}), nil)
			wantErr(t, "AddSessionClient", s.AddSessionClient(ctx, &store.SessionClient{
				SID: "gone", ClientID: "c", Subject: "subject", ExpiresAt: t0().Add(-time.Second)}), nil)
			wantErr(t, "AddSessionClient", s.AddSessionClient(ctx, &store.SessionClient{
				SID: "live", ClientID: "c", Subject: "subject", ExpiresAt: t0().Add(time.Hour)}), nil)
			n, err := s.PurgeExpired(ctx, t0(), 100)
			wantErr(t, "PurgeExpired", err, nil)
			if n != 2 {
				t.Fatalf("PurgeExpired deleted %d rows, want 2", n)
			}
			left, err := s.ClaimLogouts(ctx, t0().Add(-2*time.Second), time.Minute, 10)
			wantErr(t, "ClaimLogouts", err, nil)
			if ids := logoutIDs(left); len(ids) != 0 {
				// Neither is due at that instant; claim at t0 to see who is left.
				t.Fatalf("claimed %q before due", ids)
			}
			left, err = s.ClaimLogouts(ctx, t0(), time.Minute, 10)
			wantErr(t, "ClaimLogouts", err, nil)
			if ids := logoutIDs(left); !slices.Equal(ids, []string{"logout-fresh"}) {
				t.Fatalf("after purge: %q, want only fresh", ids)
			}
			sc, err := s.SessionClients(ctx, "subject", nil)
			wantErr(t, "SessionClients", err, nil)
			if len(sc) != 1 || sc[0].SID != "live" {
				t.Fatalf("after purge: session clients %s", show(sc))
			}
		}},
	}
}
