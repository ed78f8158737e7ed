package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authd/authd/internal/store"
)

// With the server unreachable, the breaker opens after a few failures and
// later calls fail at once, with ErrUnavailable, without touching the network.
func TestBreakerOpensWhenServerUnreachable(t *testing.T) {
	cfg, err := pgxpool.ParseConfig("postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg) // connects lazily
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	d := &DB{pool: newGuardedPool(pool)}
	ctx := context.Background()
	for i := range breakerTripAfter {
		if n := d.BreakerTrips(); n != 0 {
			t.Fatalf("BreakerTrips = %d before the breaker opened", n)
		}
		if _, err := d.Client(ctx, "x"); !errors.Is(err, store.ErrUnavailable) || errors.Is(err, errBreakerOpen) {
			t.Fatalf("call %d: %v, want a real ErrUnavailable", i, err)
		}
	}
	if n := d.BreakerTrips(); n != 1 {
		t.Fatalf("BreakerTrips = %d after the breaker opened, want 1", n)
	}
	start := time.Now()
	for range 100 {
		if _, err := d.Client(ctx, "x"); !errors.Is(err, errBreakerOpen) || !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("breaker not open: %v", err)
		}
		if err := d.Revoke(ctx, "j", time.Now()); !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("Exec through an open breaker: %v", err)
		}
	}
	if el := time.Since(start); el > time.Second {
		t.Fatalf("200 calls through an open breaker took %v", el)
	}
}

func TestIsOutage(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"no rows", pgx.ErrNoRows, false},
		{"cancelled by the caller", context.Canceled, false},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"statement timeout", &pgconn.PgError{Code: "57014"}, true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"deadline", context.DeadlineExceeded, true},
	}
	for _, tc := range tests {
		if got := isOutage(tc.err); got != tc.want {
			t.Errorf("%s: isOutage = %v, want %v", tc.name, got, tc.want)
		}
	}
}
