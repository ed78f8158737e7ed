package password

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// ErrBusy is returned when no hashing slot came free in time: the wait queue
// was full, or MaxWait or the context's deadline passed while queued, or the
// context was already done. No hashing was done. Callers should answer with
// a retryable error (HTTP 503 with Retry-After), not "invalid credentials".
// When a context caused it, the error also matches the context's error.
var ErrBusy = errors.New("password: hasher busy")

// gate is a counting semaphore with a bounded, time-limited wait queue.
// Argon2id takes tens of milliseconds and Memory KiB per call: an unbounded
// queue under a login flood would hold every request's goroutine and,
// once admitted, its memory. The gate keeps at most slots hashes running and
// maxQueue callers waiting; everyone else is turned away at once.
type gate struct {
	slots    chan struct{}
	maxQueue int64
	maxWait  time.Duration

	inFlight atomic.Int64
	queued   atomic.Int64
	rejected atomic.Uint64
}

func newGate(slots, maxQueue int, maxWait time.Duration) *gate {
	return &gate{slots: make(chan struct{}, slots), maxQueue: int64(maxQueue), maxWait: maxWait}
}

// acquire takes a slot or returns an error matching ErrBusy. On success the
// caller must call release.
func (g *gate) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		// The client has gone: hashing for it would only take a slot from
		// someone still waiting.
		return g.reject(err)
	}
	select {
	case g.slots <- struct{}{}:
		g.inFlight.Add(1)
		return nil
	default:
	}
	if g.queued.Add(1) > g.maxQueue {
		g.queued.Add(-1)
		return g.reject(nil)
	}
	defer g.queued.Add(-1)
	timer := time.NewTimer(g.maxWait)
	defer timer.Stop()
	select {
	case g.slots <- struct{}{}:
		g.inFlight.Add(1)
		return nil
	case <-timer.C:
		return g.reject(nil)
	case <-ctx.Done():
		return g.reject(ctx.Err())
	}
}

func (g *gate) release() {
	g.inFlight.Add(-1)
	<-g.slots
}

func (g *gate) reject(cause error) error {
	g.rejected.Add(1)
	if cause != nil {
		return fmt.Errorf("%w: %w", ErrBusy, cause)
	}
	return ErrBusy
}
