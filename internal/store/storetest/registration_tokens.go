package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/authd/authd/internal/store"
)

func registrationTokenCases() []testCase {
	return []testCase{
		{"UsesAreCounted", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			rt := registrationToken("a") // 3 uses
			wantErr(t, "CreateRegistrationToken", s.CreateRegistrationToken(ctx, rt), nil)
			wantErr(t, "CreateRegistrationToken again", s.CreateRegistrationToken(ctx, rt), store.ErrConflict)
			for i := range rt.MaxUses {
				wantErr(t, "use", s.UseRegistrationToken(ctx, rt.Hash, t0().Add(time.Duration(i)*time.Hour)), nil)
			}
			wantErr(t, "use past MaxUses", s.UseRegistrationToken(ctx, rt.Hash, t0()), store.ErrNotFound)
			wantErr(t, "unknown token", s.UseRegistrationToken(ctx, sum("nope"), t0()), store.ErrNotFound)
		}},
		{"ExpiredIsRefused", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			rt := registrationToken("b")
			wantErr(t, "CreateRegistrationToken", s.CreateRegistrationToken(ctx, rt), nil)
			// Usable up to and including its expiry instant (microsecond
			// resolution), not after.
			wantErr(t, "at expiry", s.UseRegistrationToken(ctx, rt.Hash, rt.ExpiresAt), nil)
			wantErr(t, "after expiry", s.UseRegistrationToken(ctx, rt.Hash, rt.ExpiresAt.Add(time.Millisecond)), store.ErrNotFound)
			// The refused use spent nothing.
			wantErr(t, "before expiry again", s.UseRegistrationToken(ctx, rt.Hash, t0()), nil)
		}},
		{"IgnoresUsesGiven", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			rt := registrationToken("c")
			rt.MaxUses, rt.Uses = 1, 1 // a new token has none, whatever the caller says
			wantErr(t, "CreateRegistrationToken", s.CreateRegistrationToken(ctx, rt), nil)
			wantErr(t, "first use", s.UseRegistrationToken(ctx, rt.Hash, t0()), nil)
			wantErr(t, "second use", s.UseRegistrationToken(ctx, rt.Hash, t0()), store.ErrNotFound)
		}},
		{"ConcurrentUsesNeverExceedMax", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			rt := registrationToken("d") // 3 uses, racers (16) callers
			wantErr(t, "CreateRegistrationToken", s.CreateRegistrationToken(ctx, rt), nil)
			errs := race(func(int) error { return s.UseRegistrationToken(ctx, rt.Hash, t0()) })
			ok := 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case !errors.Is(err, store.ErrNotFound):
					t.Fatalf("UseRegistrationToken: %v", err)
				}
			}
			if ok != rt.MaxUses {
				t.Fatalf("%d of %d concurrent uses succeeded, want exactly %d", ok, racers, rt.MaxUses)
			}
		}},
	}
}
