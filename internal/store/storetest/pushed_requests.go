package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/authd/authd/internal/store"
)

func pushedRequest(name string) *store.PushedRequest {
	return &store.PushedRequest{
		Hash:      sum("request-uri-" + name),
		ClientID:  "client-" + name,
		Params:    "client_id=client-" + name + "&response_type=code&state=" + name,
		ExpiresAt: t0().Add(time.Minute),
		CreatedAt: t0(),
	}
}

func pushedRequestCases() []testCase {
	return []testCase{
		{"ConsumedOnce", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			p := pushedRequest("a")
			wantErr(t, "CreatePushedRequest", s.CreatePushedRequest(ctx, p), nil)
			wantErr(t, "CreatePushedRequest again", s.CreatePushedRequest(ctx, p), store.ErrConflict)
			got, err := s.ConsumePushedRequest(ctx, p.Hash, p.ClientID, t0())
			wantErr(t, "ConsumePushedRequest", err, nil)
			if got.ClientID != p.ClientID || got.Params != p.Params || string(got.Hash) != string(p.Hash) ||
				!got.ExpiresAt.Equal(wantTime(p.ExpiresAt)) || !got.CreatedAt.Equal(wantTime(p.CreatedAt)) {
				t.Fatalf("ConsumePushedRequest = %+v, want %+v", got, p)
			}
			_, err = s.ConsumePushedRequest(ctx, p.Hash, p.ClientID, t0())
			wantErr(t, "ConsumePushedRequest again", err, store.ErrNotFound)
			_, err = s.ConsumePushedRequest(ctx, sum("nope"), p.ClientID, t0())
			wantErr(t, "unknown request", err, store.ErrNotFound)
		}},
		{"OtherClientIsRefused", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			p := pushedRequest("b")
			wantErr(t, "CreatePushedRequest", s.CreatePushedRequest(ctx, p), nil)
			_, err := s.ConsumePushedRequest(ctx, p.Hash, "client-other", t0())
			wantErr(t, "another client", err, store.ErrNotFound)
			// The refusal did not spend it.
			_, err = s.ConsumePushedRequest(ctx, p.Hash, p.ClientID, t0())
			wantErr(t, "its own client", err, nil)
		}},
		{"ExpiredIsRefused", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			p := pushedRequest("c")
			wantErr(t, "CreatePushedRequest", s.CreatePushedRequest(ctx, p), nil)
			_, err := s.ConsumePushedRequest(ctx, p.Hash, p.ClientID, p.ExpiresAt.Add(time.Millisecond))
			wantErr(t, "after expiry", err, store.ErrNotFound)
			// Usable up to and including its expiry instant (microseconds).
			_, err = s.ConsumePushedRequest(ctx, p.Hash, p.ClientID, wantTime(p.ExpiresAt))
			wantErr(t, "at expiry", err, nil)
		}},
		{"ConcurrentConsumeOneWins", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			p := pushedRequest("d")
			wantErr(t, "CreatePushedRequest", s.CreatePushedRequest(ctx, p), nil)
			errs := race(func(int) error {
				_, err := s.ConsumePushedRequest(ctx, p.Hash, p.ClientID, t0())
				return err
			})
			ok := 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case !errors.Is(err, store.ErrNotFound):
					t.Fatalf("ConsumePushedRequest: %v", err)
				}
			}
			if ok != 1 {
				t.Fatalf("%d of %d concurrent uses succeeded, want exactly 1", ok, racers)
			}
		}},
	}
}
