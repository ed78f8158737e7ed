package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/authd/authd/internal/store"
)

func deviceAuthorization(name string) *store.DeviceAuthorization {
	return &store.DeviceAuthorization{
		DeviceCodeHash: sum("device-code-" + name),
		UserCodeHash:   sum("user-code-" + name),
		ClientID:       "client-" + name,
		Scope:          "openid profile",
		Resources:      []string{"https://api.example/" + name},
		Interval:       5 * time.Second,
		ExpiresAt:      t0().Add(10 * time.Minute),
		CreatedAt:      t0(),
	}
}

func approve(name string) store.DeviceDecision {
	return store.DeviceDecision{Status: store.DeviceApproved, Subject: "user-" + name, AuthTime: t0(), UserGeneration: 3}
}

func deviceAuthorizationCases() []testCase {
	const step = 5 * time.Second
	return []testCase{
		{"CreateAndFindPending", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			a := deviceAuthorization("a")
			wantErr(t, "CreateDeviceAuthorization", s.CreateDeviceAuthorization(ctx, a), nil)
			wantErr(t, "same device code", s.CreateDeviceAuthorization(ctx, a), store.ErrConflict)
			b := deviceAuthorization("a-other")
			b.UserCodeHash = a.UserCodeHash
			wantErr(t, "same user code", s.CreateDeviceAuthorization(ctx, b), store.ErrConflict)
			got, err := s.PendingDeviceAuthorization(ctx, a.UserCodeHash, t0())
			wantErr(t, "PendingDeviceAuthorization", err, nil)
			if got.ClientID != a.ClientID || got.Scope != a.Scope || got.Status != store.DevicePending ||
				len(got.Resources) != 1 || got.Resources[0] != a.Resources[0] || got.Interval != a.Interval ||
				!got.LastPollAt.IsZero() || got.Subject != "" || !got.ExpiresAt.Equal(wantTime(a.ExpiresAt)) ||
				string(got.DeviceCodeHash) != string(a.DeviceCodeHash) {
				t.Fatalf("PendingDeviceAuthorization = %+v, want %+v", got, a)
			}
			_, err = s.PendingDeviceAuthorization(ctx, a.UserCodeHash, a.ExpiresAt.Add(time.Millisecond))
			wantErr(t, "after expiry", err, store.ErrNotFound)
			_, err = s.PendingDeviceAuthorization(ctx, sum("nope"), t0())
			wantErr(t, "unknown user code", err, store.ErrNotFound)
		}},
		{"DecideOnce", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			a := deviceAuthorization("b")
			wantErr(t, "CreateDeviceAuthorization", s.CreateDeviceAuthorization(ctx, a), nil)
			got, err := s.DecideDeviceAuthorization(ctx, a.UserCodeHash, approve("b"), t0())
			wantErr(t, "DecideDeviceAuthorization", err, nil)
			if got.Status != store.DeviceApproved || got.Subject != "user-b" || got.UserGeneration != 3 ||
				!got.AuthTime.Equal(wantTime(t0())) || got.ClientID != a.ClientID {
				t.Fatalf("DecideDeviceAuthorization = %+v", got)
			}
			// RFC 8628 §6.1: a user code is single-use.
			_, err = s.DecideDeviceAuthorization(ctx, a.UserCodeHash, store.DeviceDecision{Status: store.DeviceDenied}, t0())
			wantErr(t, "decide again", err, store.ErrNotFound)
			_, err = s.PendingDeviceAuthorization(ctx, a.UserCodeHash, t0())
			wantErr(t, "pending after decision", err, store.ErrNotFound)
			e := deviceAuthorization("b-expired")
			wantErr(t, "CreateDeviceAuthorization", s.CreateDeviceAuthorization(ctx, e), nil)
			_, err = s.DecideDeviceAuthorization(ctx, e.UserCodeHash, approve("b"), e.ExpiresAt.Add(time.Millisecond))
			wantErr(t, "decide after expiry", err, store.ErrNotFound)
		}},
		{"PollPendingSlowDownAndRedeem", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			a := deviceAuthorization("c")
			wantErr(t, "CreateDeviceAuthorization", s.CreateDeviceAuthorization(ctx, a), nil)
			polls := []struct {
				name         string
				at           time.Duration // after t0
				wantSlow     bool
				wantInterval time.Duration
			}{
				{"first poll", 0, false, 5 * time.Second},
				{"on time", 5 * time.Second, false, 5 * time.Second},
				{"too soon", 9 * time.Second, true, 10 * time.Second},
				// §3.5: the grown interval holds for every later poll.
				{"too soon for the grown interval", 18 * time.Second, true, 15 * time.Second},
				{"on time again", 33 * time.Second, false, 15 * time.Second},
			}
			for _, p := range polls {
				got, err := s.PollDeviceAuthorization(ctx, a.DeviceCodeHash, a.ClientID, t0().Add(p.at), step)
				wantErr(t, "PollDeviceAuthorization "+p.name, err, nil)
				if got.Status != store.DevicePending || got.SlowDown != p.wantSlow || got.Interval != p.wantInterval ||
					!got.LastPollAt.Equal(wantTime(t0().Add(p.at))) {
					t.Fatalf("%s: status %s slow %v interval %v last poll %v, want pending %v %v",
						p.name, got.Status, got.SlowDown, got.Interval, got.LastPollAt, p.wantSlow, p.wantInterval)
				}
			}
			_, err := s.PollDeviceAuthorization(ctx, a.DeviceCodeHash, "client-other", t0().Add(time.Hour), step)
			wantErr(t, "another client", err, store.ErrNotFound)
			_, err = s.DecideDeviceAuthorization(ctx, a.UserCodeHash, approve("c"), t0())
			wantErr(t, "DecideDeviceAuthorization", err, nil)
			// Another client's poll changed nothing, and is no redemption.
			got, err := s.PollDeviceAuthorization(ctx, a.DeviceCodeHash, a.ClientID, t0().Add(34*time.Second), step)
			wantErr(t, "poll after approval", err, nil)
			if got.Status != store.DeviceRedeemed || got.Subject != "user-c" || got.SlowDown {
				t.Fatalf("poll after approval = %+v, want redeemed for user-c", got)
			}
			_, err = s.PollDeviceAuthorization(ctx, a.DeviceCodeHash, a.ClientID, t0().Add(time.Minute), step)
			wantErr(t, "poll after redemption", err, store.ErrNotFound)
			_, err = s.PollDeviceAuthorization(ctx, sum("nope"), a.ClientID, t0(), step)
			wantErr(t, "unknown device code", err, store.ErrNotFound)
		}},
		{"PollDenied", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			a := deviceAuthorization("d")
			wantErr(t, "CreateDeviceAuthorization", s.CreateDeviceAuthorization(ctx, a), nil)
			_, err := s.DecideDeviceAuthorization(ctx, a.UserCodeHash, store.DeviceDecision{Status: store.DeviceDenied}, t0())
			wantErr(t, "deny", err, nil)
			for range 2 {
				got, err := s.PollDeviceAuthorization(ctx, a.DeviceCodeHash, a.ClientID, t0(), step)
				wantErr(t, "poll", err, nil)
				if got.Status != store.DeviceDenied || got.SlowDown {
					t.Fatalf("poll of a denied request = %+v", got)
				}
			}
		}},
		{"ConcurrentPollsOneRedeems", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			a := deviceAuthorization("e")
			wantErr(t, "CreateDeviceAuthorization", s.CreateDeviceAuthorization(ctx, a), nil)
			_, err := s.DecideDeviceAuthorization(ctx, a.UserCodeHash, approve("e"), t0())
			wantErr(t, "approve", err, nil)
			got := make([]*store.DeviceAuthorization, racers)
			errs := race(func(i int) error {
				var err error
				got[i], err = s.PollDeviceAuthorization(ctx, a.DeviceCodeHash, a.ClientID, t0(), step)
				return err
			})
			wins := 0
			for i, err := range errs {
				switch {
				case err == nil && got[i].Status == store.DeviceRedeemed:
					wins++
				case err == nil:
					t.Fatalf("poll %d: status %s", i, got[i].Status)
				case !errors.Is(err, store.ErrNotFound):
					t.Fatalf("PollDeviceAuthorization: %v", err)
				}
			}
			if wins != 1 {
				t.Fatalf("%d of %d concurrent polls redeemed, want exactly 1", wins, racers)
			}
		}},
		{"ConcurrentDecisionsOneWins", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			a := deviceAuthorization("f")
			wantErr(t, "CreateDeviceAuthorization", s.CreateDeviceAuthorization(ctx, a), nil)
			errs := race(func(i int) error {
				d := approve("f")
				if i%2 == 1 {
					d = store.DeviceDecision{Status: store.DeviceDenied}
				}
				_, err := s.DecideDeviceAuthorization(ctx, a.UserCodeHash, d, t0())
				return err
			})
			ok := 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case !errors.Is(err, store.ErrNotFound):
					t.Fatalf("DecideDeviceAuthorization: %v", err)
				}
			}
			if ok != 1 {
				t.Fatalf("%d of %d concurrent decisions succeeded, want exactly 1", ok, racers)
			}
		}},
	}
}
