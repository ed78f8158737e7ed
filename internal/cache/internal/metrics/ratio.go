package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// ratio exports authd_cache_hit_ratio{tier,kind}: hits / (hits + misses) since
// start, computed at scrape time from the counters, so the hot path pays
// nothing for it. (Over a window, rate() of the counters is the better view.)
type ratio struct {
	hits, misses *prometheus.CounterVec
	desc         *prometheus.Desc
}

func newRatio(hits, misses *prometheus.CounterVec) *ratio {
	return &ratio{hits: hits, misses: misses, desc: prometheus.NewDesc(
		"authd_cache_hit_ratio",
		"Share of cache lookups that found a value since start, by tier and key kind.",
		[]string{"tier", "kind"}, nil)}
}

func (r *ratio) Describe(ch chan<- *prometheus.Desc) { ch <- r.desc }

func (r *ratio) Collect(ch chan<- prometheus.Metric) {
	hits, misses := counterValues(r.hits), counterValues(r.misses)
	for k, h := range hits {
		if total := h + misses[k]; total > 0 {
			ch <- prometheus.MustNewConstMetric(r.desc, prometheus.GaugeValue, h/total, k[0], k[1])
		}
	}
	for k := range misses {
		if _, ok := hits[k]; !ok {
			ch <- prometheus.MustNewConstMetric(r.desc, prometheus.GaugeValue, 0, k[0], k[1])
		}
	}
}

// counterValues reads a (tier, kind) counter vector.
func counterValues(v *prometheus.CounterVec) map[[2]string]float64 {
	ch := make(chan prometheus.Metric, 64)
	go func() { v.Collect(ch); close(ch) }()
	out := map[[2]string]float64{}
	for m := range ch {
		var d dto.Metric
		if m.Write(&d) != nil || d.Counter == nil {
			continue
		}
		var k [2]string
		for _, lp := range d.Label {
			switch lp.GetName() {
			case "tier":
				k[0] = lp.GetValue()
			case "kind":
				k[1] = lp.GetValue()
			}
		}
		out[k] += d.Counter.GetValue()
	}
	return out
}
