package telemetry

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authd/authd/internal/httpapi"
	"github.com/authd/authd/internal/password"
)

// HTTP returns an httpapi.Observer that counts requests and their latency
// per listener, route pattern and status:
// authd_http_requests_total{listener,route,code} and
// authd_http_request_duration_seconds{listener,route}.
//
// Labels come from route patterns, never from raw paths, so the series stay
// bounded however many odd URLs a flood sends.
func HTTP(reg prometheus.Registerer, listener string) httpapi.Observer {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "authd_http_requests_total",
		Help: "HTTP requests answered, by listener, route pattern and status code.",
	}, []string{"listener", "route", "code"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "authd_http_request_duration_seconds",
		Help:    "Time to answer HTTP requests, by listener and route pattern.",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"listener", "route"})
	requests = register(reg, requests)
	duration = register(reg, duration)

	// Resolving labelled children costs a hash of the labels; keep them.
	type key struct {
		route string
		code  int
	}
	var counters sync.Map // key -> prometheus.Counter
	var hists sync.Map    // route -> prometheus.Observer
	return func(pattern string, status int, took time.Duration) {
		if pattern == "" {
			pattern = "unmatched"
		}
		k := key{pattern, status}
		c, ok := counters.Load(k)
		if !ok {
			c, _ = counters.LoadOrStore(k, requests.WithLabelValues(listener, pattern, strconv.Itoa(status)))
		}
		c.(prometheus.Counter).Inc()
		h, ok := hists.Load(pattern)
		if !ok {
			h, _ = hists.LoadOrStore(pattern, duration.WithLabelValues(listener, pattern))
		}
		h.(prometheus.Observer).Observe(took.Seconds())
	}
}

// register adds c to reg, or returns the collector already registered under
// its name (two listeners share one vector).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if reg == nil {
		return c
	}
	if err := reg.Register(c); err != nil {
		if are, ok := err.(prometheus.AlreadyRegisteredError); ok {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err) // a programming error: two metrics with one name and other labels
	}
	return c
}

// Hashing exports the password gate's state.
func Hashing(reg prometheus.Registerer, h *password.Hasher) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "authd_password_hashes_in_flight",
			Help: "Argon2id hashes running now.",
		}, func() float64 { return float64(h.Stats().InFlight) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "authd_password_hashes_queued",
			Help: "Logins waiting for a hashing slot.",
		}, func() float64 { return float64(h.Stats().Queued) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "authd_password_hashes_rejected_total",
			Help: "Logins refused with 503 because no hashing slot came free in time.",
		}, func() float64 { return float64(h.Stats().Rejected) }),
	)
}

// Events is what the security-event pipeline reports.
type Events interface {
	Emitted() uint64
	Dropped() uint64
	Written() uint64
	WriteErrors() uint64
	Aggregated() uint64
	Overflowed() uint64
	TokenEventsAggregated() uint64
	SampledOut() uint64
	Off() uint64
	WriteRetries() uint64
	Lost() uint64
	ByType() map[string]uint64
}

// SecurityEvents exports the audit pipeline's counters.
func SecurityEvents(reg prometheus.Registerer, p Events) {
	for _, m := range []struct {
		name, help string
		f          func() uint64
	}{
		{"authd_security_events_emitted_total", "Security events emitted.", p.Emitted},
		{"authd_security_events_dropped_total", "Security events dropped because the queue was full.", p.Dropped},
		{"authd_security_events_written_total", "Security events written to the audit trail.", p.Written},
		{"authd_security_events_write_errors_total", "Audit write batches given up (their events are counted in authd_security_events_lost_total).", p.WriteErrors},
		{"authd_security_events_lost_total", "Security events lost with audit write batches that were given up.", p.Lost},
		{"authd_security_events_write_retries_total", "Failed audit writes that were tried again.", p.WriteRetries},
		{"authd_security_events_aggregated_total", "Refusals counted in an aggregate audit row instead of a row each.", p.Aggregated},
		{"authd_security_events_overflowed_total", "Refusals counted in an overflow row because their window had too many sources.", p.Overflowed},
		{"authd_security_token_events_aggregated_total", "Token events (issued, introspected) counted in a per-client aggregate audit row instead of a row each (AUTHD_AUDIT_TOKEN_EVENTS=aggregate).", p.TokenEventsAggregated},
		{"authd_security_token_events_sampled_out_total", "Token events not written because sampling passed them over (AUTHD_AUDIT_TOKEN_EVENTS=sample).", p.SampledOut},
		{"authd_security_token_events_off_total", "Token events not written because AUTHD_AUDIT_TOKEN_EVENTS=off.", p.Off},
	} {
		f := m.f
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: m.name, Help: m.help},
			func() float64 { return float64(f()) }))
	}
	reg.MustRegister(eventsByType{p})
}

// eventsByType exports authd_security_events_total{type}: refresh and code
// reuse, lockouts, enumeration, login failures and the rest, one series per
// event type (a fixed set of constants, so bounded).
type eventsByType struct{ p Events }

var eventsByTypeDesc = prometheus.NewDesc("authd_security_events_total",
	"Security events emitted, by type (whatever became of them: written, aggregated or dropped).", []string{"type"}, nil)

func (e eventsByType) Describe(ch chan<- *prometheus.Desc) { ch <- eventsByTypeDesc }

func (e eventsByType) Collect(ch chan<- prometheus.Metric) {
	for typ, n := range e.p.ByType() {
		ch <- prometheus.MustNewConstMetric(eventsByTypeDesc, prometheus.CounterValue, float64(n), typ)
	}
}

// BuildInfo exports authd_build_info{version,commit,goversion} = 1, so a
// dashboard can tell which build each replica runs (a rolling upgrade).
func BuildInfo(reg prometheus.Registerer, version, commit, goVersion string) {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "authd_build_info",
		Help:        "The build this process runs (always 1).",
		ConstLabels: prometheus.Labels{"version": version, "commit": commit, "goversion": goVersion},
	})
	g.Set(1)
	reg.MustRegister(g)
}

// StoreBreaker exports authd_store_breaker_trips_total: how many times the
// store's circuit breaker opened (PostgreSQL only; SQLite has no breaker).
// Each trip means calls failed at once with temporarily_unavailable.
func StoreBreaker(reg prometheus.Registerer, trips func() uint64) {
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "authd_store_breaker_trips_total",
		Help: "Times the store's circuit breaker opened after outages in a row (PostgreSQL).",
	}, func() float64 { return float64(trips()) }))
}
