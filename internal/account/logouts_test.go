package account

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/authd/authd/internal/store"
)

// recordingLogouts records what it is told, and whether the user's sessions
// were still there when it was: it must be told before they end.
type recordingLogouts struct {
	db    *fixture
	fail  error
	calls []string
}

func (l *recordingLogouts) UserSessionsEnding(ctx context.Context, subject string, keep []byte) error {
	_, err := l.db.db.Session(ctx, []byte("session-1"))
	l.calls = append(l.calls, subject+" keep="+string(keep)+" before="+map[bool]string{true: "yes", false: "no"}[err == nil])
	return l.fail
}

// TestSessionsEndingIsToldFirst: every change that ends a user's sessions
// tells Options.Logouts first, with the session kept; if that fails the
// change does not happen.
func TestSessionsEndingIsToldFirst(t *testing.T) {
	tests := []struct {
		name   string
		change func(s *Service, id string) error
		want   string // "" : not told
		// keepsRow: the session row stays (a deleted user's sessions stop
		// working with the user; the row expires).
		keepsRow bool
	}{
		{"reset", func(s *Service, id string) error {
			return s.SetPassword(context.Background(), id, "another good passphrase")
		}, "keep= before=yes", false},
		{"change keeping a session", func(s *Service, id string) error {
			return s.ChangePassword(context.Background(), id, goodPassword, "another good passphrase", []byte("session-2"))
		}, "keep=session-2 before=yes", false},
		{"disable", func(s *Service, id string) error { return s.SetDisabled(context.Background(), id, true) }, "keep= before=yes", false},
		{"enable", func(s *Service, id string) error { return s.SetDisabled(context.Background(), id, false) }, "", false},
		{"delete", func(s *Service, id string) error { return s.Delete(context.Background(), id) }, "keep= before=yes", true},
		{"end sessions", func(s *Service, id string) error { return s.EndSessions(context.Background(), id) }, "keep= before=yes", false},
	}
	for _, tc := range tests {
		for _, failing := range []bool{false, true} {
			t.Run(tc.name+map[bool]string{false: "", true: " failing"}[failing], func(t *testing.T) {
				f := newFixture(t, tinyParams)
				l := &recordingLogouts{db: f}
				if failing {
					l.fail = store.ErrUnavailable
				}
				f.svc.logouts = l
				u, err := f.svc.Create(context.Background(), "alice", goodPassword, "")
				if err != nil {
					t.Fatal(err)
				}
				sess := &store.Session{Hash: []byte("session-1"), Subject: u.ID, AuthTime: f.now, ExpiresAt: f.now.Add(time.Hour)}
				if err := f.db.CreateSession(context.Background(), sess); err != nil {
					t.Fatal(err)
				}
				err = tc.change(f.svc, u.ID)
				var want []string
				if tc.want != "" {
					want = []string{u.ID + " " + tc.want}
				}
				if !slices.Equal(l.calls, want) {
					t.Fatalf("told %q, want %q", l.calls, want)
				}
				_, sessErr := f.db.Session(context.Background(), sess.Hash)
				switch {
				case failing && tc.want != "":
					if !errors.Is(err, store.ErrUnavailable) || sessErr != nil {
						t.Fatalf("failing: err %v, session %v: the change went ahead", err, sessErr)
					}
				case err != nil:
					t.Fatalf("change: %v", err)
				case tc.want != "" && !tc.keepsRow && !errors.Is(sessErr, store.ErrNotFound):
					t.Fatalf("session survived: %v", sessErr)
				}
			})
		}
	}
}
