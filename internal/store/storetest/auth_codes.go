package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/internal/store"
)

// racers is how many goroutines race for one single-use record.
const racers = 16

// race runs fn from racers goroutines released at the same instant and returns
// their errors by index.
func race(fn func(i int) error) []error {
	errs := make([]error, racers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

func authCodeCases() []testCase {
	return []testCase{
		{"RedeemOnce", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			c := authCode("a")
			wantErr(t, "CreateAuthCode", s.CreateAuthCode(ctx, c), nil)
			got, err := s.RedeemAuthCode(ctx, c.Hash, t0())
			wantErr(t, "RedeemAuthCode", err, nil)
			mustEqual(t, "redeemed code", got, wantAuthCode(c))

			got, err = s.RedeemAuthCode(ctx, c.Hash, t0().Add(time.Second))
			wantErr(t, "RedeemAuthCode again", err, store.ErrAlreadyUsed)
			// The record comes back with ErrAlreadyUsed so the caller can revoke its grant.
			mustEqual(t, "code returned with ErrAlreadyUsed", got, wantAuthCode(c))
		}},
		{"RedeemExpiredIsCallersCheck", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			c := authCode("expired")
			wantErr(t, "CreateAuthCode", s.CreateAuthCode(ctx, c), nil)
			got, err := s.RedeemAuthCode(ctx, c.Hash, c.ExpiresAt.Add(time.Hour))
			wantErr(t, "RedeemAuthCode after expiry", err, nil)
			mustEqual(t, "expired code", got, wantAuthCode(c))
		}},
		{"MissingNotFound", func(t *testing.T, s store.Store) {
			_, err := s.RedeemAuthCode(t.Context(), sum("nope"), t0())
			wantErr(t, "RedeemAuthCode", err, store.ErrNotFound)
		}},
		{"CreateDuplicateConflicts", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			wantErr(t, "CreateAuthCode", s.CreateAuthCode(ctx, authCode("a")), nil)
			dup := authCode("a")
			dup.Subject = "someone else"
			wantErr(t, "CreateAuthCode duplicate", s.CreateAuthCode(ctx, dup), store.ErrConflict)
			got, err := s.RedeemAuthCode(ctx, dup.Hash, t0())
			wantErr(t, "RedeemAuthCode", err, nil)
			mustEqual(t, "code after conflict", got, wantAuthCode(authCode("a")))
		}},
		{"ConcurrentRedeemExactlyOneWins", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			c := authCode("raced")
			wantErr(t, "CreateAuthCode", s.CreateAuthCode(ctx, c), nil)
			codes := make([]*store.AuthCode, racers)
			errs := race(func(i int) error {
				var err error
				codes[i], err = s.RedeemAuthCode(ctx, c.Hash, t0())
				return err
			})
			wins := 0
			for i, err := range errs {
				switch {
				case err == nil:
					wins++
				case !errors.Is(err, store.ErrAlreadyUsed):
					t.Errorf("redemption %d: %v, want success or ErrAlreadyUsed", i, err)
					continue
				}
				mustEqual(t, "raced code", codes[i], wantAuthCode(c))
			}
			if wins != 1 {
				t.Fatalf("%d of %d concurrent redemptions succeeded, want exactly 1", wins, racers)
			}
		}},
	}
}
