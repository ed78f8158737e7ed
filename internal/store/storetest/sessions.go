package storetest

import (
	"testing"

	"github.com/authd/authd/internal/store"
)

func sessionCases() []testCase {
	return []testCase{
		{"RoundTrip", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			x := session("a")
			wantErr(t, "CreateSession", s.CreateSession(ctx, x), nil)
			got, err := s.Session(ctx, x.Hash)
			wantErr(t, "Session", err, nil)
			mustEqual(t, "session", got, wantSession(x))
		}},
		{"MissingNotFound", func(t *testing.T, s store.Store) {
			_, err := s.Session(t.Context(), sum("nope"))
			wantErr(t, "Session", err, store.ErrNotFound)
		}},
		{"CreateDuplicateConflicts", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			wantErr(t, "CreateSession", s.CreateSession(ctx, session("a")), nil)
			dup := session("a")
			dup.Subject = "mallory"
			wantErr(t, "CreateSession duplicate", s.CreateSession(ctx, dup), store.ErrConflict)
			got, err := s.Session(ctx, dup.Hash)
			wantErr(t, "Session", err, nil)
			mustEqual(t, "session after conflict", got, wantSession(session("a")))
		}},
		{"Delete", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			a, b := session("a"), session("b")
			wantErr(t, "CreateSession a", s.CreateSession(ctx, a), nil)
			wantErr(t, "CreateSession b", s.CreateSession(ctx, b), nil)
			wantErr(t, "DeleteSession", s.DeleteSession(ctx, a.Hash), nil)
			_, err := s.Session(ctx, a.Hash)
			wantErr(t, "Session after delete", err, store.ErrNotFound)
			wantErr(t, "DeleteSession again", s.DeleteSession(ctx, a.Hash), nil)
			_, err = s.Session(ctx, b.Hash)
			wantErr(t, "other session", err, nil)
		}},
		{"DeleteUserSessions", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			a1, a2, b := session("a1"), session("a2"), session("b")
			a2.Subject = a1.Subject
			for _, x := range []*store.Session{a1, a2, b} {
				wantErr(t, "CreateSession", s.CreateSession(ctx, x), nil)
			}
			wantErr(t, "DeleteUserSessions", s.DeleteUserSessions(ctx, a1.Subject), nil)
			for _, x := range []*store.Session{a1, a2} {
				_, err := s.Session(ctx, x.Hash)
				wantErr(t, "Session after DeleteUserSessions", err, store.ErrNotFound)
			}
			_, err := s.Session(ctx, b.Hash)
			wantErr(t, "another user's session", err, nil)
			wantErr(t, "DeleteUserSessions with none", s.DeleteUserSessions(ctx, "nobody"), nil)
		}},
	}
}
