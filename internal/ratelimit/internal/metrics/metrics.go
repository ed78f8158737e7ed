// Package metrics holds the Prometheus collectors the limiters share. Each
// limiter resolves its label values once, so that counting a decision is one
// atomic add.
package metrics

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authd/authd/internal/ratelimit"
)

// Decisions counts one limiter's decisions by result.
type Decisions struct {
	allowed, denied, errors prometheus.Counter
}

// NewDecisions returns the counters of authd_ratelimit_decisions_total for
// limiter, registered with reg when reg is not nil. Limiters may share reg:
// a collector already registered is reused.
func NewDecisions(reg prometheus.Registerer, limiter string) *Decisions {
	v := register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "authd_ratelimit_decisions_total",
		Help: "Rate-limit decisions by limiter and result (allowed, denied, error: the limiter could not decide).",
	}, []string{"limiter", "result"}))
	return &Decisions{
		allowed: v.WithLabelValues(limiter, "allowed"),
		denied:  v.WithLabelValues(limiter, "denied"),
		errors:  v.WithLabelValues(limiter, "error"),
	}
}

// Observe counts the outcome of one Allow. Bad arguments count as errors:
// they are bugs someone should see.
func (m *Decisions) Observe(d ratelimit.Decision, err error) {
	switch {
	case err != nil:
		m.errors.Inc()
	case d.Allowed:
		m.allowed.Inc()
	default:
		m.denied.Inc()
	}
}

// NewFallbacks returns authd_ratelimit_fallback_total, registered with reg
// when reg is not nil.
func NewFallbacks(reg prometheus.Registerer) prometheus.Counter {
	return register(reg, prometheus.NewCounter(prometheus.CounterOpts{
		Name: "authd_ratelimit_fallback_total",
		Help: "Rate-limit calls answered by the local (per-replica) limiter because the shared one (Redis) failed or its breaker was open.",
	}))
}

// NewEvictions returns the authd_ratelimit_evictions_total counter for
// limiter, registered with reg when reg is not nil.
func NewEvictions(reg prometheus.Registerer, limiter string) prometheus.Counter {
	return register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "authd_ratelimit_evictions_total",
		Help: "Keys an in-process limiter forgot before their bucket was full again, to stay within its size bound; each one errs toward allowing.",
	}, []string{"limiter"})).WithLabelValues(limiter)
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if reg == nil {
		return c
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		// A collector of that name with other labels: a programming error
		// that registration would otherwise hide.
		panic(err)
	}
	return c
}
