package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// lifecycle owns what serve builds. Every component registers how it stops
// as soon as it exists, so an early return unwinds exactly what was built,
// and a shutdown stops everything in the reverse order of building (servers
// first, then writers and the audit pipeline flush, then background actors,
// then cache, limiter and store) within one budget.
type lifecycle struct {
	log   *slog.Logger
	mu    sync.Mutex
	stops []stopFunc
}

type stopFunc struct {
	name string
	fn   func(ctx context.Context) error
}

func newLifecycle(log *slog.Logger) *lifecycle { return &lifecycle{log: log} }

// onStop registers fn, run at shutdown before everything registered earlier.
func (l *lifecycle) onStop(name string, fn func(ctx context.Context) error) {
	l.mu.Lock()
	l.stops = append(l.stops, stopFunc{name, fn})
	l.mu.Unlock()
}

// onClose registers a closer that cannot fail or be cut short.
func (l *lifecycle) onClose(name string, fn func()) {
	l.onStop(name, func(context.Context) error { fn(); return nil })
}

// goActor runs fn in a goroutine until its turn to stop comes: then its
// context is cancelled and the shutdown waits for it to return. No
// background work outlives the store it uses.
func (l *lifecycle) goActor(name string, fn func(ctx context.Context)) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(ctx)
	}()
	l.onStop(name, func(sctx context.Context) error {
		cancel()
		select {
		case <-done:
			return nil
		case <-sctx.Done():
			return fmt.Errorf("%s did not stop: %w", name, sctx.Err())
		}
	})
}

// shutdown runs every stop in reverse order under ctx (the whole budget)
// and returns their errors joined; it runs each stop once, so calling it
// again is harmless.
func (l *lifecycle) shutdown(ctx context.Context) error {
	l.mu.Lock()
	stops := l.stops
	l.stops = nil
	l.mu.Unlock()
	var errs []error
	for i := len(stops) - 1; i >= 0; i-- {
		s := stops[i]
		start := time.Now()
		if err := s.fn(ctx); err != nil {
			l.log.Warn("stop", "component", s.name, "error", err.Error())
			errs = append(errs, fmt.Errorf("stop %s: %w", s.name, err))
			continue
		}
		l.log.Debug("stopped", "component", s.name, "took", time.Since(start).String())
	}
	return errors.Join(errs...)
}

// drainDeadline is how long the servers may drain within a shutdown budget:
// two thirds, so that flushing what the drained requests queued always has
// a third of it.
func drainDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	d, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, time.Now().Add(time.Until(d)*2/3))
}
