package storetest

import (
	"sort"
	"testing"
	"time"

	"github.com/authd/authd/internal/store"
)

func userCases() []testCase {
	return []testCase{
		{"RoundTrip", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			u := user("u1", "alice")
			u.Disabled = true
			wantErr(t, "CreateUser", s.CreateUser(ctx, u), nil)
			got, err := s.User(ctx, "u1")
			wantErr(t, "User", err, nil)
			mustEqual(t, "User", got, wantUser(u))
			got, err = s.UserByUsername(ctx, "alice")
			wantErr(t, "UserByUsername", err, nil)
			mustEqual(t, "UserByUsername", got, wantUser(u))
		}},
		{"Conflicts", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			wantErr(t, "CreateUser", s.CreateUser(ctx, user("u1", "alice")), nil)
			tests := []struct {
				name string
				u    *store.User
			}{
				{"same id", user("u1", "bob")},
				{"same username", user("u2", "alice")},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					wantErr(t, "CreateUser", s.CreateUser(ctx, tc.u), store.ErrConflict)
				})
			}
			for _, id := range []string{"u2"} {
				_, err := s.User(ctx, id)
				wantErr(t, "User "+id, err, store.ErrNotFound)
			}
			_, err := s.UserByUsername(ctx, "bob")
			wantErr(t, "UserByUsername bob", err, store.ErrNotFound)
			got, err := s.User(ctx, "u1")
			wantErr(t, "User u1", err, nil)
			mustEqual(t, "u1 after conflicts", got, wantUser(user("u1", "alice")))
		}},
		{"MissingNotFound", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			_, err := s.User(ctx, "nope")
			wantErr(t, "User", err, store.ErrNotFound)
			_, err = s.UserByUsername(ctx, "nope")
			wantErr(t, "UserByUsername", err, store.ErrNotFound)
		}},
		{"ListOrderedByUsername", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			got, err := s.ListUsers(ctx)
			wantErr(t, "ListUsers empty", err, nil)
			if len(got) != 0 {
				t.Fatalf("ListUsers on empty store: %d users", len(got))
			}
			// Ids sort in the opposite order to usernames, so ordering by id fails.
			names := []string{"zoe", "Zed", "bob", "alice", "al_ice", "al-ice", "émile"}
			for i, n := range names {
				wantErr(t, "CreateUser "+n, s.CreateUser(ctx, user(string(rune('z'-i)), n)), nil)
			}
			got, err = s.ListUsers(ctx)
			wantErr(t, "ListUsers", err, nil)
			want := append([]string(nil), names...)
			sort.Strings(want)
			if len(got) != len(want) {
				t.Fatalf("ListUsers returned %d users, want %d", len(got), len(want))
			}
			for i, u := range got {
				if u.Username != want[i] {
					t.Fatalf("ListUsers[%d] = %q, want %q (order %q)", i, u.Username, want[i], want)
				}
				mustEqual(t, "listed user "+u.Username, u, wantUser(user(u.ID, u.Username)))
			}
		}},
		{"Delete", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			wantErr(t, "CreateUser u1", s.CreateUser(ctx, user("u1", "alice")), nil)
			wantErr(t, "CreateUser u2", s.CreateUser(ctx, user("u2", "bob")), nil)
			wantErr(t, "DeleteUser", s.DeleteUser(ctx, "u1"), nil)
			_, err := s.User(ctx, "u1")
			wantErr(t, "User after delete", err, store.ErrNotFound)
			_, err = s.UserByUsername(ctx, "alice")
			wantErr(t, "UserByUsername after delete", err, store.ErrNotFound)
			wantErr(t, "DeleteUser again", s.DeleteUser(ctx, "u1"), store.ErrNotFound)
			_, err = s.User(ctx, "u2")
			wantErr(t, "other user after delete", err, nil)
			// The username is free again.
			wantErr(t, "CreateUser reusing username", s.CreateUser(ctx, user("u3", "alice")), nil)
		}},
		{"Updates", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			wantErr(t, "CreateUser", s.CreateUser(ctx, user("u1", "alice")), nil)
			want := user("u1", "alice")
			check := func(what string) {
				t.Helper()
				got, err := s.User(ctx, "u1")
				wantErr(t, "User", err, nil)
				mustEqual(t, what, got, wantUser(want))
			}
			now := t0().Add(time.Hour + 1500*time.Nanosecond)
			wantErr(t, "SetPasswordHash", s.SetPasswordHash(ctx, "u1", "$argon2id$new", now), nil)
			want.PasswordHash, want.UpdatedAt = "$argon2id$new", now
			check("after SetPasswordHash")

			now = now.Add(time.Hour)
			wantErr(t, "SetUserDisabled true", s.SetUserDisabled(ctx, "u1", true, now), nil)
			want.Disabled, want.UpdatedAt = true, now
			check("after disabling")

			now = now.Add(time.Hour)
			wantErr(t, "SetUserDisabled false", s.SetUserDisabled(ctx, "u1", false, now), nil)
			want.Disabled, want.UpdatedAt = false, now
			check("after enabling")

			wantErr(t, "SetPasswordHash missing", s.SetPasswordHash(ctx, "nope", "x", now), store.ErrNotFound)
			wantErr(t, "SetUserDisabled missing", s.SetUserDisabled(ctx, "nope", true, now), store.ErrNotFound)
		}},
	}
}
