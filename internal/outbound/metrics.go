package outbound

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Results of one outbound request, the label of authd_outbound_fetches_total.
const (
	resultOK          = "ok"
	resultNotModified = "not_modified"
	resultRefused     = "refused"
	resultTooLarge    = "too_large"
	resultBadResponse = "bad_response"
	resultError       = "error"
)

// metrics are one Fetcher's collectors, with every label value resolved up
// front so that counting is one atomic add.
type metrics struct {
	fetches   map[string]prometheus.Counter
	duration  prometheus.Histogram
	fresh     prometheus.Counter
	stale     prometheus.Counter
	negative  prometheus.Counter
	evictions prometheus.Counter

	kidRefreshed, kidThrottled prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, entries func() float64) (*metrics, error) {
	fetches := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "authd_outbound_fetches_total",
		Help: "Outbound HTTP requests (jwks_uri, metadata documents, issuers) by result: ok, not_modified, refused (SSRF rules), too_large, bad_response, error (network, deadline, 5xx).",
	}, []string{"result"})
	duration := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "authd_outbound_fetch_duration_seconds",
		Help:    "Time of outbound HTTP requests that reached the network, whatever their result.",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	})
	hits := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "authd_outbound_cache_hits_total",
		Help: "Outbound documents answered from the cache: fresh, stale (served because fetching it failed) or negative (a remembered failure).",
	}, []string{"state"})
	evictions := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "authd_outbound_cache_evictions_total",
		Help: "Outbound cache entries removed to keep the cache within its bounds.",
	})
	size := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "authd_outbound_cache_entries",
		Help: "Entries in the outbound cache.",
	}, entries)
	kid := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "authd_outbound_jwks_unknown_kid_total",
		Help: "Key ids not found in a fresh JWK Set: refreshed (the set was fetched again) or throttled (fetched too recently; refused without a fetch).",
	}, []string{"result"})
	m := &metrics{
		fetches:      map[string]prometheus.Counter{},
		duration:     duration,
		fresh:        hits.WithLabelValues("fresh"),
		stale:        hits.WithLabelValues("stale"),
		negative:     hits.WithLabelValues("negative"),
		evictions:    evictions,
		kidRefreshed: kid.WithLabelValues("refreshed"),
		kidThrottled: kid.WithLabelValues("throttled"),
	}
	for _, r := range []string{resultOK, resultNotModified, resultRefused, resultTooLarge, resultBadResponse, resultError} {
		m.fetches[r] = fetches.WithLabelValues(r)
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{fetches, duration, hits, evictions, size, kid} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

// resultOf is the fetches_total label of a failed request.
func resultOf(err error) string {
	switch {
	case errors.Is(err, ErrRefused):
		return resultRefused
	case errors.Is(err, ErrTooLarge):
		return resultTooLarge
	case errors.Is(err, ErrBadResponse):
		return resultBadResponse
	}
	return resultError
}
