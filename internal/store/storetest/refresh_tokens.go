package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/internal/store"
)

// usable fails unless RefreshToken(r.Hash) returns r.
func usable(t *testing.T, s store.Store, what string, r *store.RefreshToken) {
	t.Helper()
	got, err := s.RefreshToken(t.Context(), r.Hash)
	wantErr(t, "RefreshToken "+what, err, nil)
	mustEqual(t, "refresh token "+what, got, wantRefreshToken(r))
}

// unusable fails unless RefreshToken(hash) is ErrNotFound.
func unusable(t *testing.T, s store.Store, what string, hash []byte) {
	t.Helper()
	_, err := s.RefreshToken(t.Context(), hash)
	wantErr(t, "RefreshToken "+what, err, store.ErrNotFound)
}

func refreshTokenCases() []testCase {
	return []testCase{
		{"RoundTrip", func(t *testing.T, s store.Store) {
			r := refreshToken("r1", "g1")
			wantErr(t, "CreateRefreshToken", s.CreateRefreshToken(t.Context(), r), nil)
			usable(t, s, "r1", r)
		}},
		{"MissingNotFound", func(t *testing.T, s store.Store) {
			unusable(t, s, "missing", sum("nope"))
		}},
		{"CreateDuplicateConflicts", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			wantErr(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, refreshToken("r1", "g1")), nil)
			wantErr(t, "CreateRefreshToken duplicate", s.CreateRefreshToken(ctx, refreshToken("r1", "g2")), store.ErrConflict)
			usable(t, s, "r1 after conflict", refreshToken("r1", "g1"))
		}},
		{"RotateChain", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			r1, r2, r3 := refreshToken("r1", "g"), refreshToken("r2", "g"), refreshToken("r3", "g")
			r2.IssuedAt, r3.IssuedAt = t0().Add(time.Hour), t0().Add(2*time.Hour)
			wantErr(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, r1), nil)

			old, err := s.RotateRefreshToken(ctx, r1.Hash, r2, t0().Add(time.Hour))
			wantErr(t, "RotateRefreshToken r1", err, nil)
			mustEqual(t, "rotated-out token", old, wantRefreshToken(used(r1, t0().Add(time.Hour), false)))
			unusable(t, s, "r1 after rotation", r1.Hash)
			usable(t, s, "r2", r2)

			// Reuse of r1: the old record comes back and nothing is inserted.
			again := refreshToken("again", "g")
			old, err = s.RotateRefreshToken(ctx, r1.Hash, again, t0().Add(2*time.Hour))
			wantErr(t, "RotateRefreshToken r1 again", err, store.ErrAlreadyUsed)
			mustEqual(t, "token returned with ErrAlreadyUsed", old, wantRefreshToken(used(r1, t0().Add(time.Hour), false)))
			unusable(t, s, "next of a reused token", again.Hash)

			old, err = s.RotateRefreshToken(ctx, r2.Hash, r3, t0().Add(2*time.Hour))
			wantErr(t, "RotateRefreshToken r2", err, nil)
			mustEqual(t, "rotated-out r2", old, wantRefreshToken(used(r2, t0().Add(2*time.Hour), false)))
			usable(t, s, "r3", r3)
		}},
		{"RotateExpiredIsCallersCheck", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			r1, r2 := refreshToken("r1", "g"), refreshToken("r2", "g")
			wantErr(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, r1), nil)
			_, err := s.RotateRefreshToken(ctx, r1.Hash, r2, r1.ExpiresAt.Add(time.Hour))
			wantErr(t, "RotateRefreshToken after expiry", err, nil)
			usable(t, s, "r2", r2)
		}},
		{"RotateMissingNotFound", func(t *testing.T, s store.Store) {
			next := refreshToken("next", "g")
			_, err := s.RotateRefreshToken(t.Context(), sum("nope"), next, t0())
			wantErr(t, "RotateRefreshToken", err, store.ErrNotFound)
			unusable(t, s, "next of a missing token", next.Hash)
		}},
		{"RotateConflictIsAtomic", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			r1, other := refreshToken("r1", "g"), refreshToken("other", "h")
			wantErr(t, "CreateRefreshToken r1", s.CreateRefreshToken(ctx, r1), nil)
			wantErr(t, "CreateRefreshToken other", s.CreateRefreshToken(ctx, other), nil)
			clash := refreshToken("other", "g") // same hash as other
			_, err := s.RotateRefreshToken(ctx, r1.Hash, clash, t0())
			wantErr(t, "RotateRefreshToken onto an existing hash", err, store.ErrConflict)
			// The failed rotation must not have used up r1 nor touched other.
			usable(t, s, "r1 after failed rotation", r1)
			usable(t, s, "other after failed rotation", other)
			r2 := refreshToken("r2", "g")
			_, err = s.RotateRefreshToken(ctx, r1.Hash, r2, t0())
			wantErr(t, "RotateRefreshToken after failed rotation", err, nil)
			usable(t, s, "r2", r2)
		}},
		{"RevokeGrant", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			r1, r2, h1 := refreshToken("r1", "G"), refreshToken("r2", "G"), refreshToken("h1", "H")
			wantErr(t, "CreateRefreshToken r1", s.CreateRefreshToken(ctx, r1), nil)
			wantErr(t, "CreateRefreshToken h1", s.CreateRefreshToken(ctx, h1), nil)
			_, err := s.RotateRefreshToken(ctx, r1.Hash, r2, t0())
			wantErr(t, "RotateRefreshToken", err, nil)
			aG1, aG2, aH, aCC := accessToken(1, "G"), accessToken(2, "G"), accessToken(3, "H"), accessToken(4, "")
			wantErr(t, "CreateAccessTokens", s.CreateAccessTokens(ctx, []*store.AccessToken{aG1, aG2, aH, aCC}), nil)

			wantErr(t, "RevokeGrant G", s.RevokeGrant(ctx, "G"), nil)

			unusable(t, s, "r2 of revoked family", r2.Hash)
			for i, r := range []*store.RefreshToken{used(r1, t0(), true), used(r2, time.Time{}, true)} {
				next := refreshToken(fmt.Sprintf("next-%d", i), "G")
				old, err := s.RotateRefreshToken(ctx, r.Hash, next, t0().Add(time.Hour))
				wantErr(t, "RotateRefreshToken in revoked family", err, store.ErrAlreadyUsed)
				mustEqual(t, "revoked token returned with ErrAlreadyUsed", old, wantRefreshToken(r))
				unusable(t, s, "next of a revoked token", next.Hash)
			}
			for _, a := range []*store.AccessToken{aG1, aG2} {
				_, err := s.AccessToken(ctx, a.Hash)
				wantErr(t, "AccessToken of revoked grant", err, store.ErrNotFound)
			}

			// Other families and grant-less tokens are untouched, also by revoking
			// an unknown grant or the empty grant id client_credentials tokens carry.
			wantErr(t, "RevokeGrant unknown", s.RevokeGrant(ctx, "unknown"), nil)
			wantErr(t, "RevokeGrant empty", s.RevokeGrant(ctx, ""), nil)
			usable(t, s, "h1 of another family", h1)
			for _, a := range []*store.AccessToken{aH, aCC} {
				got, err := s.AccessToken(ctx, a.Hash)
				wantErr(t, "AccessToken of another grant", err, nil)
				mustEqual(t, "access token of another grant", gotAccessToken(got), wantAccessToken(a))
			}
		}},
		{"RevokeGrantDuringRotations", func(t *testing.T, s store.Store) {
			// A client rotating as fast as it can while its grant is revoked: once
			// both are done, no token of the family may still be usable, however
			// the rotation and the revocation interleaved.
			ctx := t.Context()
			// A family that escapes revocation would rotate forever; stop it well
			// after the revocation had to take effect.
			const families, maxRotations = 8, 1000
			var wg sync.WaitGroup
			issued := make([][][]byte, families)
			final := make([]error, families)
			for f := range families {
				grant := fmt.Sprintf("G%d", f)
				cur := refreshToken(grant+"-0", grant)
				wantErr(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, cur), nil)
				issued[f] = [][]byte{cur.Hash}
				rotated := make(chan struct{})
				// Also on an early return, so the revoker never waits forever.
				signal := sync.OnceFunc(func() { close(rotated) })
				wg.Add(2)
				go func() {
					defer wg.Done()
					defer signal()
					for i := 1; ; i++ {
						if i > maxRotations {
							final[f] = fmt.Errorf("still rotating after %d rotations", maxRotations)
							return
						}
						next := refreshToken(fmt.Sprintf("%s-%d", grant, i), grant)
						_, err := s.RotateRefreshToken(ctx, cur.Hash, next, t0())
						if i == 3 {
							signal()
						}
						if err != nil {
							final[f] = err
							if i <= 3 {
								t.Errorf("family %d: rotation %d before revocation: %v", f, i, err)
							}
							return
						}
						issued[f] = append(issued[f], next.Hash)
						cur = next
					}
				}()
				go func() {
					defer wg.Done()
					<-rotated
					if err := s.RevokeGrant(ctx, grant); err != nil {
						t.Errorf("RevokeGrant %s: %v", grant, err)
					}
				}()
			}
			wg.Wait()
			for f := range families {
				if !errors.Is(final[f], store.ErrAlreadyUsed) {
					t.Errorf("family %d: rotation ended with %v, want ErrAlreadyUsed", f, final[f])
				}
				for i, h := range issued[f] {
					if _, err := s.RefreshToken(ctx, h); !errors.Is(err, store.ErrNotFound) {
						t.Errorf("family %d: token %d of %d usable after RevokeGrant (RefreshToken = %v)", f, i, len(issued[f]), err)
					}
				}
			}
		}},
		{"Delete", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			r1, r2 := refreshToken("r1", "g"), refreshToken("r2", "g")
			wantErr(t, "CreateRefreshToken r1", s.CreateRefreshToken(ctx, r1), nil)
			wantErr(t, "CreateRefreshToken r2", s.CreateRefreshToken(ctx, r2), nil)
			wantErr(t, "DeleteRefreshToken", s.DeleteRefreshToken(ctx, r1.Hash), nil)
			unusable(t, s, "r1 after delete", r1.Hash)
			wantErr(t, "DeleteRefreshToken again", s.DeleteRefreshToken(ctx, r1.Hash), nil)
			wantErr(t, "DeleteRefreshToken absent", s.DeleteRefreshToken(ctx, sum("never")), nil)
			usable(t, s, "r2 after deleting r1", r2)
		}},
		{"ConcurrentRotateExactlyOneWins", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			r := refreshToken("raced", "g")
			wantErr(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, r), nil)
			nexts := make([]*store.RefreshToken, racers)
			olds := make([]*store.RefreshToken, racers)
			for i := range nexts {
				nexts[i] = refreshToken(fmt.Sprintf("next-%d", i), "g")
			}
			errs := race(func(i int) error {
				var err error
				olds[i], err = s.RotateRefreshToken(ctx, r.Hash, nexts[i], t0())
				return err
			})
			winner := -1
			for i, err := range errs {
				switch {
				case err == nil:
					if winner >= 0 {
						t.Fatalf("rotations %d and %d both succeeded", winner, i)
					}
					winner = i
				case !errors.Is(err, store.ErrAlreadyUsed):
					t.Errorf("rotation %d: %v, want success or ErrAlreadyUsed", i, err)
					continue
				}
				mustEqual(t, "raced old token", olds[i], wantRefreshToken(used(r, t0(), false)))
			}
			if winner < 0 {
				t.Fatalf("none of %d concurrent rotations succeeded", racers)
			}
			// Exactly one successor exists, and it is the winner's.
			for i, next := range nexts {
				_, err := s.RefreshToken(ctx, next.Hash)
				switch {
				case i == winner && err != nil:
					t.Errorf("winner's successor: %v", err)
				case i != winner && !errors.Is(err, store.ErrNotFound):
					t.Errorf("loser %d's successor was inserted (RefreshToken = %v)", i, err)
				}
			}
			unusable(t, s, "raced token", r.Hash)
		}},
	}
}

// used is r as the store returns it once rotated at (zero: never) and, if
// revoked, with its family revoked.
func used(r *store.RefreshToken, at time.Time, revoked bool) *store.RefreshToken {
	x := *r
	x.UsedAt, x.Revoked = at, revoked
	return &x
}
