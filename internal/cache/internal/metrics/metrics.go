package metrics

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// maxKinds caps the label values one tier creates. Kinds come from our own key
// prefixes, so a handful exist; the cap only guards against a caller building
// keys from input.
const maxKinds = 32

// otherKind labels keys beyond maxKinds, and keys without a kind.
const otherKind = "other"

// Tier counts the events of one cache tier.
type Tier struct {
	tier                    string
	hits, misses, evictions *prometheus.CounterVec
	errors                  prometheus.Counter
	mu                      sync.Mutex                       // serialises adding a kind
	kinds                   atomic.Pointer[map[string]*Kind] // copy on write
	other                   *Kind
}

// Kind holds the counters of one (tier, kind).
type Kind struct {
	Hits, Misses, Evictions prometheus.Counter
}

// New returns the counters for tier, registered with reg when reg is not nil.
// Several tiers (and several caches of one tier) may share reg: collectors that
// are already registered are reused.
func New(reg prometheus.Registerer, tier string) *Tier {
	t := &Tier{
		tier: tier,
		hits: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authd_cache_hits_total",
			Help: "Cache lookups that found a value, by tier and key kind.",
		}, []string{"tier", "kind"})),
		misses: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authd_cache_misses_total",
			Help: "Cache lookups that found nothing, by tier and key kind.",
		}, []string{"tier", "kind"})),
		evictions: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authd_cache_evictions_total",
			Help: "Entries removed to keep a cache within its size bound, by tier and key kind.",
		}, []string{"tier", "kind"})),
	}
	register(reg, newRatio(t.hits, t.misses))
	errs := register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "authd_cache_errors_total",
		Help: "Cache operations that failed (timeouts, unreachable Redis, values that do not open), by tier.",
	}, []string{"tier"}))
	t.errors = errs.WithLabelValues(tier)
	m := map[string]*Kind{}
	t.kinds.Store(&m)
	t.other = t.newKind(otherKind)
	return t
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

func (t *Tier) newKind(kind string) *Kind {
	return &Kind{
		Hits:      t.hits.WithLabelValues(t.tier, kind),
		Misses:    t.misses.WithLabelValues(t.tier, kind),
		Evictions: t.evictions.WithLabelValues(t.tier, kind),
	}
}

// Kind returns the counters for key's kind (the text before its first ':').
func (t *Tier) Kind(key string) *Kind {
	kind, _, ok := strings.Cut(key, ":")
	if !ok || kind == "" {
		return t.other
	}
	if k, ok := (*t.kinds.Load())[kind]; ok {
		return k
	}
	return t.addKind(kind)
}

func (t *Tier) addKind(kind string) *Kind {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := *t.kinds.Load()
	if k, ok := old[kind]; ok {
		return k
	}
	if len(old) >= maxKinds {
		return t.other
	}
	kind = strings.Clone(kind) // do not pin the caller's key
	k := t.newKind(kind)
	m := make(map[string]*Kind, len(old)+1)
	for n, v := range old {
		m[n] = v
	}
	m[kind] = k
	t.kinds.Store(&m)
	return k
}

// Error counts one failed operation.
func (t *Tier) Error() { t.errors.Inc() }

// ErrorCounter is the tier's error counter (tests read it).
func (t *Tier) ErrorCounter() prometheus.Counter { return t.errors }

// RedisUp returns the gauge authd_cache_redis_up, registered with reg when
// reg is not nil. Only the Redis tier has it: an embedded deployment without
// Redis exports no such series rather than a permanent 0.
func RedisUp(reg prometheus.Registerer) prometheus.Gauge {
	return register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "authd_cache_redis_up",
		Help: "1 while the Redis cache tier is connected and its circuit breaker closed.",
	}))
}
