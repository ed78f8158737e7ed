package account

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/authd/authd/internal/store"
)

func TestUnlock(t *testing.T) {
	f := newFixture(t, tinyParams)
	ctx := context.Background()
	alice, err := f.svc.Create(ctx, "Alice", goodPassword, "")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, ref string
		wantErr   error
		wantGuard []string
	}{
		{"by id", alice.ID, nil, []string{"unlock:alice@"}},
		{"by username", "alice", nil, []string{"unlock:alice@"}},
		{"by username as typed", " ALICE ", nil, []string{"unlock:alice@"}},
		{"unknown username", "bob", store.ErrNotFound, nil},
		{"unknown id", "AAAAAAAAAAAAAAAAAAAAAA", store.ErrNotFound, nil},
		{"not a username either", "no body", store.ErrNotFound, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.guard.reset()
			err := f.svc.Unlock(ctx, tc.ref)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Unlock(%q) = %v, want %v", tc.ref, err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatalf("Unlock(%q) = %v", tc.ref, err)
			}
			if got := f.guard.list(); strings.Join(got, ",") != strings.Join(tc.wantGuard, ",") {
				t.Errorf("guard saw %q, want %q", got, tc.wantGuard)
			}
		})
	}

	// The guard's failure is the caller's to see.
	f.guard.reset()
	f.guard.unlockErr = errors.New("limiter down")
	if err := f.svc.Unlock(ctx, "alice"); err == nil || !strings.Contains(err.Error(), "limiter down") {
		t.Errorf("Unlock with a failing guard = %v", err)
	}

	// Without a guard there is nothing to clear.
	bare := New(f.db, f.spy.Hasher, f.svc.policy, Options{})
	if err := bare.Unlock(ctx, "alice"); err != nil {
		t.Errorf("Unlock without a guard = %v", err)
	}
}

// TestPasswordChangedClearsLockout: what SetPassword runs after storing a
// new hash clears the account's counters, and a failure to do so does not
// fail the change.
func TestPasswordChangedClearsLockout(t *testing.T) {
	f := newFixture(t, tinyParams)
	ctx := context.Background()
	u, err := f.svc.Create(ctx, "erin", goodPassword, "")
	if err != nil {
		t.Fatal(err)
	}
	f.guard.reset()
	f.svc.passwordChanged(ctx, u)
	if got := f.guard.list(); len(got) != 1 || got[0] != "unlock:erin@" {
		t.Errorf("guard saw %q, want an unlock of erin", got)
	}
	f.guard.unlockErr = errors.New("limiter down")
	f.svc.passwordChanged(ctx, u) // logged, nothing to return
	f.guard.unlockErr = nil

	// Through the real path: an administrator's reset clears them.
	f.guard.reset()
	if err := f.svc.SetPassword(ctx, u.ID, "a whole new passphrase"); err != nil {
		t.Fatal(err)
	}
	if got := f.guard.list(); len(got) != 1 || got[0] != "unlock:erin@" {
		t.Errorf("after SetPassword the guard saw %q, want an unlock of erin", got)
	}
}

// TestTrustedDeviceReachesGuard: the device the caller vouched for is on the
// Attempt, and only there.
func TestTrustedDeviceReachesGuard(t *testing.T) {
	f := newFixture(t, tinyParams)
	if _, err := f.svc.Create(context.Background(), "alice", goodPassword, ""); err != nil {
		t.Fatal(err)
	}
	g := &attemptGuard{}
	svc := New(f.db, f.spy.Hasher, f.svc.policy, Options{Guard: g})
	ctx := WithTrustedDevice(WithClientIP(context.Background(), "192.0.2.7"), "dev-1")
	if _, err := svc.Authenticate(ctx, "alice", goodPassword); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(WithClientIP(context.Background(), "192.0.2.7"), "alice", "wrong"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatal(err)
	}
	want := []Attempt{
		{Username: "alice", IP: "192.0.2.7", Device: "dev-1"}, {Username: "alice", IP: "192.0.2.7", Device: "dev-1"},
		{Username: "alice", IP: "192.0.2.7"}, {Username: "alice", IP: "192.0.2.7"},
	}
	if len(g.seen) != len(want) {
		t.Fatalf("guard saw %+v, want %+v", g.seen, want)
	}
	for i := range want {
		if g.seen[i] != want[i] {
			t.Errorf("attempt %d = %+v, want %+v", i, g.seen[i], want[i])
		}
	}
	if TrustedDevice(context.Background()) != "" {
		t.Error("a bare context has a trusted device")
	}
}

type attemptGuard struct{ seen []Attempt }

func (g *attemptGuard) Allow(_ context.Context, a Attempt) error {
	g.seen = append(g.seen, a)
	return nil
}
func (g *attemptGuard) Fail(_ context.Context, a Attempt)    { g.seen = append(g.seen, a) }
func (g *attemptGuard) Succeed(_ context.Context, a Attempt) { g.seen = append(g.seen, a) }
func (g *attemptGuard) Unlock(context.Context, string) error { return nil }
