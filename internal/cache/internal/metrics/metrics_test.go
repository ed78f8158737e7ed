package metrics

import (
	"fmt"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestKind(t *testing.T) {
	m := New(prometheus.NewPedanticRegistry(), "memory")
	tests := []struct {
		name, key, want string
	}{
		{"kind", "intro:abc", "intro"},
		{"first colon", "jwt:rev:abc", "jwt"},
		{"no colon", "abc", otherKind},
		{"empty kind", ":abc", otherKind},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, want := m.Kind(tc.key).Hits, m.Kind(tc.want+":x").Hits; got != want {
				t.Fatalf("Kind(%q) is not the counters of %q", tc.key, tc.want)
			}
		})
	}
}

func TestKindCardinalityCapped(t *testing.T) {
	m := New(nil, "memory")
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.Kind(fmt.Sprintf("k%d:x", i)).Hits.Inc()
		}()
	}
	wg.Wait()
	if n := len(*m.kinds.Load()); n != maxKinds {
		t.Fatalf("%d kinds, want the cap %d", n, maxKinds)
	}
	if m.Kind("k-new:x") != m.other {
		t.Fatal("a kind beyond the cap did not fold into other")
	}
}

func TestSharedRegistry(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	a, b := New(reg, "memory"), New(reg, "redis")
	RedisUp(reg).Set(1)
	RedisUp(reg).Set(1) // a second Redis cache shares the gauge
	a.Kind("intro:x").Hits.Inc()
	b.Kind("intro:x").Hits.Inc()
	b.Error()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, mf := range mfs {
		got[mf.GetName()] = len(mf.GetMetric())
	}
	// Per tier: "intro" and the pre-created "other".
	if got["authd_cache_hits_total"] != 4 || got["authd_cache_errors_total"] != 2 || got["authd_cache_redis_up"] != 1 {
		t.Fatalf("series per metric = %v", got)
	}
}

func TestHitRatio(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	a, b := New(reg, "l1"), New(reg, "redis")
	for range 3 {
		a.Kind("at:x").Hits.Inc()
	}
	a.Kind("at:x").Misses.Inc()
	b.Kind("rev:x").Misses.Inc()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "authd_cache_hit_ratio" {
			continue
		}
		for _, m := range mf.Metric {
			var tier, kind string
			for _, lp := range m.Label {
				if lp.GetName() == "tier" {
					tier = lp.GetValue()
				} else {
					kind = lp.GetValue()
				}
			}
			got[tier+"/"+kind] = m.Gauge.GetValue()
		}
	}
	if got["l1/at"] != 0.75 || got["redis/rev"] != 0 || len(got) != 2 {
		t.Fatalf("hit ratios = %v", got)
	}
}
