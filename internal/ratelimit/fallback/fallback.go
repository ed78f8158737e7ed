package fallback

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authd/authd/internal/ratelimit"
	"github.com/authd/authd/internal/ratelimit/internal/metrics"
)

// Options configure a Limiter.
type Options struct {
	// Registerer receives authd_ratelimit_fallback_total; nil registers
	// nothing.
	Registerer prometheus.Registerer
	// Logger, when set, is told when limits become per replica and when
	// the shared limiter is back: once per change, not once per call.
	Logger *slog.Logger
}

// Limiter is a ratelimit.Limiter that falls back from a shared limiter to a
// local one. It is safe for concurrent use when both are.
type Limiter struct {
	primary, local ratelimit.Limiter
	fallbacks      prometheus.Counter
	log            *slog.Logger
	degraded       atomic.Bool
}

var _ ratelimit.Limiter = (*Limiter)(nil)

// New returns a Limiter that asks primary (redis) and, when primary cannot
// decide, local (memory).
func New(primary, local ratelimit.Limiter, opts Options) *Limiter {
	return &Limiter{
		primary:   primary,
		local:     local,
		fallbacks: metrics.NewFallbacks(opts.Registerer),
		log:       opts.Logger,
	}
}

// Allow implements ratelimit.Limiter. It returns an error only for invalid
// arguments, when ctx is done, or when the local limiter fails too.
func (l *Limiter) Allow(ctx context.Context, key string, limit ratelimit.Limit, cost int) (ratelimit.Decision, error) {
	d, err := l.primary.Allow(ctx, key, limit, cost)
	if !l.fallBack(ctx, err) {
		return d, err
	}
	return l.local.Allow(ctx, key, limit, cost)
}

// Reset implements ratelimit.Limiter. It resets the key in both limiters:
// the local one may hold the key from an outage, and is the one deciding
// while the shared one cannot. When only the shared limiter fails, Reset
// succeeds (and counts a fallback): the key then keeps its pre-outage budget
// in Redis, which errs toward limiting and refills by itself.
func (l *Limiter) Reset(ctx context.Context, key string) error {
	if err := l.local.Reset(ctx, key); err != nil {
		return err
	}
	err := l.primary.Reset(ctx, key)
	if l.fallBack(ctx, err) {
		return nil
	}
	return err
}

// Degraded reports whether the last call fell back: limits are per replica
// until the shared limiter answers again.
func (l *Limiter) Degraded() bool { return l.degraded.Load() }

// fallBack reports whether err from the primary calls for the local limiter,
// and keeps the count and the degraded state.
func (l *Limiter) fallBack(ctx context.Context, err error) bool {
	if err == nil {
		if l.degraded.Load() && l.degraded.CompareAndSwap(true, false) && l.log != nil {
			l.log.Info("ratelimit: shared limiter answers again; limits are shared by replicas")
		}
		return false
	}
	if errors.Is(err, ratelimit.ErrInvalid) || ctx.Err() != nil {
		return false
	}
	l.fallbacks.Inc()
	if !l.degraded.Load() && l.degraded.CompareAndSwap(false, true) && l.log != nil {
		l.log.Warn("ratelimit: shared limiter unavailable; limits are per replica until it recovers", "err", err)
	}
	return true
}
