package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/authd/authd/internal/store"
)

func trustedIssuer(name string) *store.TrustedIssuer {
	return &store.TrustedIssuer{
		ID:             "ti-" + name,
		Issuer:         "https://idp.example/" + name,
		JWKSURI:        "https://idp.example/" + name + "/jwks",
		Audience:       "https://authd.example",
		SubjectMapping: "username",
		CreatedAt:      t0(),
	}
}

func wantTrustedIssuer(ti *store.TrustedIssuer) *store.TrustedIssuer {
	x := *ti
	x.CreatedAt = wantTime(ti.CreatedAt)
	return &x
}

func trustedIssuerCases() []testCase {
	return []testCase{
		{"CreateGetByIdAndIssuer", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			ti := trustedIssuer("a")
			ti.CreatedAt = ti.CreatedAt.Add(1234 * time.Nanosecond) // truncated to µs on the way
			wantErr(t, "CreateTrustedIssuer", s.CreateTrustedIssuer(ctx, ti), nil)
			got, err := s.TrustedIssuer(ctx, ti.ID)
			wantErr(t, "TrustedIssuer", err, nil)
			mustEqual(t, "trusted issuer", got, wantTrustedIssuer(ti))
			got, err = s.TrustedIssuerByIssuer(ctx, ti.Issuer)
			wantErr(t, "TrustedIssuerByIssuer", err, nil)
			mustEqual(t, "by issuer", got, wantTrustedIssuer(ti))
			_, err = s.TrustedIssuer(ctx, "ti-nope")
			wantErr(t, "unknown id", err, store.ErrNotFound)
			// Issuers are compared exactly (RFC 7519 §4.1.1 StringOrURI).
			_, err = s.TrustedIssuerByIssuer(ctx, ti.Issuer+"/")
			wantErr(t, "other issuer", err, store.ErrNotFound)
		}},
		{"EmptyJWKSURIRoundTrips", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			ti := trustedIssuer("disco")
			ti.JWKSURI, ti.SubjectMapping = "", "none"
			wantErr(t, "CreateTrustedIssuer", s.CreateTrustedIssuer(ctx, ti), nil)
			got, err := s.TrustedIssuer(ctx, ti.ID)
			wantErr(t, "TrustedIssuer", err, nil)
			mustEqual(t, "trusted issuer", got, wantTrustedIssuer(ti))
		}},
		{"UniqueIDAndIssuer", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			a := trustedIssuer("a")
			wantErr(t, "CreateTrustedIssuer", s.CreateTrustedIssuer(ctx, a), nil)
			sameID := trustedIssuer("b")
			sameID.ID = a.ID
			wantErr(t, "same id", s.CreateTrustedIssuer(ctx, sameID), store.ErrConflict)
			sameIss := trustedIssuer("c")
			sameIss.Issuer = a.Issuer
			wantErr(t, "same issuer", s.CreateTrustedIssuer(ctx, sameIss), store.ErrConflict)
			list, err := s.ListTrustedIssuers(ctx)
			wantErr(t, "ListTrustedIssuers", err, nil)
			mustEqual(t, "list", list, []*store.TrustedIssuer{wantTrustedIssuer(a)})
		}},
		{"ConcurrentCreatesOfOneIssuer", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			errs := race(func(i int) error {
				ti := trustedIssuer("race")
				ti.ID = fmt.Sprintf("ti-race-%d", i)
				return s.CreateTrustedIssuer(ctx, ti)
			})
			won := 0
			for _, err := range errs {
				switch {
				case err == nil:
					won++
				case !errors.Is(err, store.ErrConflict):
					t.Fatalf("a losing create: %v, want ErrConflict", err)
				}
			}
			list, err := s.ListTrustedIssuers(ctx)
			wantErr(t, "ListTrustedIssuers", err, nil)
			if won != 1 || len(list) != 1 {
				t.Fatalf("%d creates won, %d stored; want 1", won, len(list))
			}
		}},
		{"UserByVerifiedEmail", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			a := user("u-a", "alice")
			unverified := user("u-b", "bob")
			unverified.EmailVerified = false
			unverified.Email = "shared@example.com"
			c1, c2 := user("u-c1", "carol1"), user("u-c2", "carol2")
			c1.Email, c2.Email = "carol@example.com", "carol@example.com"
			for _, u := range []*store.User{a, unverified, c1, c2} {
				wantErr(t, "CreateUser "+u.ID, s.CreateUser(ctx, u), nil)
			}
			got, err := s.UserByVerifiedEmail(ctx, "alice@example.com")
			wantErr(t, "alice", err, nil)
			mustEqual(t, "alice's id", got.ID, a.ID)
			_, err = s.UserByVerifiedEmail(ctx, "ALICE@example.com")
			wantErr(t, "compared exactly", err, store.ErrNotFound)
			// An unverified address names nobody: anyone can type one in.
			_, err = s.UserByVerifiedEmail(ctx, "shared@example.com")
			wantErr(t, "unverified", err, store.ErrNotFound)
			// Two users with one address: the address names neither.
			_, err = s.UserByVerifiedEmail(ctx, "carol@example.com")
			wantErr(t, "shared", err, store.ErrConflict)
		}},
		{"ListOrderedByIssuerAndDelete", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			for _, n := range []string{"m", "z", "a"} {
				wantErr(t, "CreateTrustedIssuer "+n, s.CreateTrustedIssuer(ctx, trustedIssuer(n)), nil)
			}
			list, err := s.ListTrustedIssuers(ctx)
			wantErr(t, "ListTrustedIssuers", err, nil)
			mustEqual(t, "list", list, []*store.TrustedIssuer{
				wantTrustedIssuer(trustedIssuer("a")), wantTrustedIssuer(trustedIssuer("m")), wantTrustedIssuer(trustedIssuer("z"))})
			wantErr(t, "DeleteTrustedIssuer", s.DeleteTrustedIssuer(ctx, "ti-m"), nil)
			wantErr(t, "delete again", s.DeleteTrustedIssuer(ctx, "ti-m"), store.ErrNotFound)
			_, err = s.TrustedIssuer(ctx, "ti-m")
			wantErr(t, "deleted", err, store.ErrNotFound)
			list, err = s.ListTrustedIssuers(ctx)
			wantErr(t, "ListTrustedIssuers after delete", err, nil)
			mustEqual(t, "list after delete", len(list), 2)
		}},
	}
}
