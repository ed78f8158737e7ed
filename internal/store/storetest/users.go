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
			want.Disabled, want.UpdatedAt, want.Generation = true, now, want.Generation+1
			check("after disabling")

			now = now.Add(time.Hour)
			wantErr(t, "SetUserDisabled false", s.SetUserDisabled(ctx, "u1", false, now), nil)
			want.Disabled, want.UpdatedAt = false, now
			check("after enabling")

			now = now.Add(time.Hour)
			p := store.UserProfile{Email: "new@example.org", Name: "Alice Ü", GivenName: "Alice", FamilyName: "Ü",
				PhoneNumber: "+44 20 7946 0000", PhoneNumberVerified: true, Address: &store.Address{Formatted: "10 Downing St, London", Country: "GB"}}
			wantErr(t, "UpdateUserProfile", s.UpdateUserProfile(ctx, "u1", p, now), nil)
			want.UserProfile, want.UpdatedAt = p, now
			check("after UpdateUserProfile")

			now = now.Add(time.Hour)
			p.Address, p.PhoneNumber, p.PhoneNumberVerified = nil, "", false
			wantErr(t, "UpdateUserProfile without contact", s.UpdateUserProfile(ctx, "u1", p, now), nil)
			want.UserProfile, want.UpdatedAt = p, now
			check("after clearing the phone and address")

			wantErr(t, "UpdateUserProfile missing", s.UpdateUserProfile(ctx, "nope", p, now), store.ErrNotFound)
			_, err := s.ChangePassword(ctx, "nope", "x", nil, now)
			wantErr(t, "ChangePassword missing", err, store.ErrNotFound)
			wantErr(t, "SetPasswordHash missing", s.SetPasswordHash(ctx, "nope", "x", now), store.ErrNotFound)
			wantErr(t, "SetUserDisabled missing", s.SetUserDisabled(ctx, "nope", true, now), store.ErrNotFound)
		}},
		{"ChangePasswordEndsWhatTheOldOneOpened", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			u, other := user("u1", "alice"), user("u2", "bob")
			wantErr(t, "CreateUser", s.CreateUser(ctx, u), nil)
			wantErr(t, "CreateUser", s.CreateUser(ctx, other), nil)
			mine1, mine2, theirs := refreshToken("m1", "g1"), refreshToken("m2", "g2"), refreshToken("t1", "g3")
			mine1.Subject, mine2.Subject, theirs.Subject = "u1", "u1", "u2"
			for _, r := range []*store.RefreshToken{mine1, mine2, theirs} {
				wantErr(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, r), nil)
			}
			keep, drop, theirSession := session("keep"), session("drop"), session("theirs")
			keep.Subject, drop.Subject, theirSession.Subject = "u1", "u1", "u2"
			for _, x := range []*store.Session{keep, drop, theirSession} {
				wantErr(t, "CreateSession", s.CreateSession(ctx, x), nil)
			}
			now := t0().Add(time.Hour)
			gen, err := s.ChangePassword(ctx, "u1", "$argon2id$changed", keep.Hash, now)
			wantErr(t, "ChangePassword", err, nil)
			if gen != u.Generation+1 {
				t.Fatalf("ChangePassword returned generation %d, want %d", gen, u.Generation+1)
			}
			got, err := s.User(ctx, "u1")
			wantErr(t, "User", err, nil)
			want := wantUser(u)
			want.PasswordHash, want.Generation, want.UpdatedAt = "$argon2id$changed", gen, wantTime(now)
			mustEqual(t, "user after ChangePassword", got, want)
			unusable(t, s, "refresh token of the changed user", mine1.Hash)
			unusable(t, s, "other refresh token of the changed user", mine2.Hash)
			usable(t, s, "another user's refresh token", theirs)
			// Presenting one again is told apart from reuse: it comes back revoked.
			old, err := s.RotateRefreshToken(ctx, mine1.Hash, refreshToken("n", "g1"), now)
			wantErr(t, "RotateRefreshToken of a revoked token", err, store.ErrAlreadyUsed)
			if !old.Revoked {
				t.Fatalf("refresh token after ChangePassword: Revoked = false")
			}
			_, err = s.Session(ctx, keep.Hash)
			wantErr(t, "kept session", err, nil)
			_, err = s.Session(ctx, drop.Hash)
			wantErr(t, "other session of the user", err, store.ErrNotFound)
			_, err = s.Session(ctx, theirSession.Hash)
			wantErr(t, "another user's session", err, nil)

			// nil keeps no session.
			gen2, err := s.ChangePassword(ctx, "u1", "$argon2id$again", nil, now)
			wantErr(t, "ChangePassword again", err, nil)
			if gen2 != gen+1 {
				t.Fatalf("second ChangePassword returned generation %d, want %d", gen2, gen+1)
			}
			_, err = s.Session(ctx, keep.Hash)
			wantErr(t, "session after ChangePassword keeping none", err, store.ErrNotFound)
		}},
		{"DisablingEndsEverything", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			u := user("u1", "alice")
			wantErr(t, "CreateUser", s.CreateUser(ctx, u), nil)
			r := refreshToken("m1", "g1")
			r.Subject = "u1"
			wantErr(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, r), nil)
			x := session("s")
			x.Subject = "u1"
			wantErr(t, "CreateSession", s.CreateSession(ctx, x), nil)
			wantErr(t, "SetUserDisabled", s.SetUserDisabled(ctx, "u1", true, t0()), nil)
			unusable(t, s, "refresh token of a disabled user", r.Hash)
			_, err := s.Session(ctx, x.Hash)
			wantErr(t, "session of a disabled user", err, store.ErrNotFound)
			// Enabling again revives nothing and leaves the generation alone.
			wantErr(t, "SetUserDisabled false", s.SetUserDisabled(ctx, "u1", false, t0()), nil)
			unusable(t, s, "refresh token after enabling", r.Hash)
			got, err := s.User(ctx, "u1")
			wantErr(t, "User", err, nil)
			if got.Generation != u.Generation+1 || got.Disabled {
				t.Fatalf("after disable and enable: generation %d, disabled %v; want %d, false", got.Generation, got.Disabled, u.Generation+1)
			}
		}},
	}
}
