package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sony/gobreaker/v2"

	"github.com/authd/authd/internal/store"
)

// guardedPool puts a circuit breaker in front of every call to the pool: when
// PostgreSQL stops answering, callers fail at once with store.ErrUnavailable
// (answered as temporarily_unavailable) instead of each waiting out its
// deadline and piling up on the pool. One probe call goes through after
// breakerOpenFor, so the store recovers by itself.
//
// Only outages count against the breaker: a missing row, a conflict or a
// cancelled request says nothing about the server's health.
type guardedPool struct {
	*pgxpool.Pool
	cb    *gobreaker.TwoStepCircuitBreaker[struct{}]
	trips *atomic.Uint64 // times the breaker opened, for authd_store_breaker_trips_total
}

const (
	breakerTripAfter = 5 // consecutive outages
	breakerOpenFor   = time.Second
)

func newGuardedPool(p *pgxpool.Pool) guardedPool {
	trips := new(atomic.Uint64)
	return guardedPool{Pool: p, trips: trips, cb: gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        "postgres",
		MaxRequests: 1,
		Timeout:     breakerOpenFor,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= breakerTripAfter },
		IsSuccessful: func(err error) bool {
			return err == nil || !isOutage(err)
		},
		// Counted rather than exported as a state: open lasts a second
		// before a probe, so a scrape would mostly miss it.
		OnStateChange: func(_ string, _, to gobreaker.State) {
			if to == gobreaker.StateOpen {
				trips.Add(1)
			}
		},
	})}
}

// BreakerTrips is how many times the circuit breaker has opened: each is a
// run of outages in a row, during which calls failed at once.
func (d *DB) BreakerTrips() uint64 { return d.pool.trips.Load() }

// errBreakerOpen is returned while the breaker is open; fail maps it to
// store.ErrUnavailable.
var errBreakerOpen = fmt.Errorf("postgres: circuit open: %w", store.ErrUnavailable)

// isOutage reports whether err means the server could not be used: a
// connection, timeout or server-availability failure.
func isOutage(err error) bool {
	if err == nil || errors.Is(err, pgx.ErrNoRows) || errors.Is(err, context.Canceled) {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "57014" || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03" ||
			pe.Code == "53300" || (len(pe.Code) == 5 && pe.Code[:2] == "08")
	}
	return true // network errors, dial failures, deadline exceeded, closed pool
}

func (g guardedPool) allow() (func(error), error) {
	done, err := g.cb.Allow()
	if err != nil {
		return nil, errBreakerOpen
	}
	return func(err error) { done(err) }, nil
}

func (g guardedPool) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	done, err := g.allow()
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := g.Pool.Exec(ctx, sql, args...)
	done(err)
	return tag, err
}

func (g guardedPool) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	done, err := g.allow()
	if err != nil {
		return nil, err
	}
	rows, err := g.Pool.Query(ctx, sql, args...)
	done(err)
	return rows, err
}

func (g guardedPool) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	done, err := g.allow()
	if err != nil {
		return errRow{err}
	}
	return guardedRow{row: g.Pool.QueryRow(ctx, sql, args...), done: done}
}

func (g guardedPool) CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	done, err := g.allow()
	if err != nil {
		return 0, err
	}
	n, err := g.Pool.CopyFrom(ctx, table, cols, src)
	done(err)
	return n, err
}

func (g guardedPool) Begin(ctx context.Context) (pgx.Tx, error) {
	done, err := g.allow()
	if err != nil {
		return nil, err
	}
	tx, err := g.Pool.Begin(ctx)
	done(err)
	return tx, err
}

func (g guardedPool) Ping(ctx context.Context) error {
	done, err := g.allow()
	if err != nil {
		return err
	}
	err = g.Pool.Ping(ctx)
	done(err)
	return err
}

// guardedRow reports to the breaker when the row is scanned, which is when
// QueryRow's errors surface.
type guardedRow struct {
	row  pgx.Row
	done func(error)
}

func (r guardedRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	r.done(err)
	return err
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
