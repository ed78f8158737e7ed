package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestStressVerdict(t *testing.T) {
	st := stressSettings{p99: 20 * time.Millisecond, errorsPct: 1}
	tests := []struct {
		name string
		s    Summary
		rate int
		want string // "" = sustainable
	}{
		{"within limits", Summary{Requests: 100, OK: 100, RPS: 100, Latency: Latency{P99: 5}}, 100, ""},
		{"p99 over", Summary{Requests: 100, OK: 100, RPS: 100, Latency: Latency{P99: 25}}, 100, "p99 25.00ms passed 20ms"},
		{"errors at the limit", Summary{Requests: 100, OK: 99, RPS: 100, Latency: Latency{P99: 5}}, 100, ""},
		{"errors over", Summary{Requests: 100, OK: 98, RPS: 100, Latency: Latency{P99: 5}}, 100, "2.00% unexpected answers passed 1%"},
		{"could not send at the rate", Summary{Requests: 80, OK: 80, RPS: 80, Latency: Latency{P99: 5}}, 100, "only 80 req/s went out"},
		{"no answers", Summary{}, 100, "no answers"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := stressVerdict(&tc.s, st, tc.rate); got != tc.want {
				t.Fatalf("= %q; want %q", got, tc.want)
			}
		})
	}
}

// slowAbove serves a JWKS that answers at once until more than limit
// requests arrived in the current 200ms window, then takes 100ms per answer:
// a server whose capacity is about 5×limit requests a second. The window is
// wide and the test's rates far from the capacity, so a scheduling hiccup
// on a busy machine (and the burst vegeta sends to catch up after it) does
// not look like overload.
func slowAbove(t *testing.T, limit int) *httptest.Server {
	t.Helper()
	var mu sync.Mutex
	var window time.Time
	var n int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		mu.Lock()
		if now.Sub(window) >= 200*time.Millisecond {
			window, n = now, 0
		}
		n++
		over := n > limit
		mu.Unlock()
		if over {
			time.Sleep(100 * time.Millisecond) // the overloaded server's latency, not synchronisation
		}
		_, _ = w.Write([]byte(`{"keys":[]}`))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func stressEnv(base string, st stressSettings, d time.Duration, maxRequests int64) *env {
	fx := newFixture(base, base, "t")
	mix, _ := parseMix("jwks:1")
	o := &options{mix: mix, stress: st, batchFormat: "opaque"}
	return &env{label: "slow", base: base, fx: fx, o: o, log: io.Discard, hc: newHTTPClient(5*time.Second, 4, ""),
		settings: attackSettings{Workers: 4, MaxWorkers: 64, Duration: d, MaxRequests: maxRequests, Timeout: 5 * time.Second}}
}

func TestStressFindsTheSustainableRate(t *testing.T) {
	tests := []struct {
		name        string
		limit       int // requests per 100ms the server answers fast
		st          stressSettings
		duration    time.Duration
		maxRequests int64
		wantRate    int
		wantStop    string
		wantSteps   int
	}{
		{name: "the server slows above 250/s", limit: 50,
			st:       stressSettings{start: 100, step: 300, maxRate: 1000, stepDuration: 400 * time.Millisecond, p99: 50 * time.Millisecond, errorsPct: 1},
			duration: 5 * time.Second, maxRequests: 100_000, wantRate: 100, wantStop: "at 400/s p99", wantSteps: 2},
		{name: "the first step already fails", limit: 0,
			st:       stressSettings{start: 100, step: 100, maxRate: 1000, stepDuration: 300 * time.Millisecond, p99: 50 * time.Millisecond, errorsPct: 1},
			duration: 5 * time.Second, maxRequests: 100_000, wantRate: 0, wantStop: "at 100/s p99", wantSteps: 1},
		{name: "bounded by --duration", limit: 1000,
			st:       stressSettings{start: 50, step: 50, maxRate: 1000, stepDuration: 300 * time.Millisecond, p99: time.Second, errorsPct: 1},
			duration: 700 * time.Millisecond, maxRequests: 100_000, wantRate: 100, wantStop: "--duration 700ms ran out", wantSteps: 2},
		{name: "bounded by --max-requests", limit: 1000,
			st:       stressSettings{start: 100, step: 100, maxRate: 1000, stepDuration: 300 * time.Millisecond, p99: time.Second, errorsPct: 1},
			duration: 5 * time.Second, maxRequests: 60, wantRate: 100, wantStop: "--max-requests 60 ran out", wantSteps: 1},
		{name: "bounded by --stress-max-rate", limit: 1000,
			st:       stressSettings{start: 50, step: 50, maxRate: 100, stepDuration: 300 * time.Millisecond, p99: time.Second, errorsPct: 1},
			duration: 5 * time.Second, maxRequests: 100_000, wantRate: 100, wantStop: "the largest rate", wantSteps: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := slowAbove(t, tc.limit)
			e := stressEnv(srv.URL, tc.st, tc.duration, tc.maxRequests)
			began := time.Now()
			res := runStress(context.Background(), e)
			took := time.Since(began)
			if res.Status != statusOK {
				t.Fatalf("status %s %v", res.Status, res.Notes)
			}
			if tc.wantRate > 0 && res.SustainableRate != tc.wantRate {
				t.Errorf("sustainable %d/s; want %d/s (%+v)", res.SustainableRate, tc.wantRate, res.Findings)
			}
			if got := len(res.Streams) - 1; got != tc.wantSteps {
				t.Errorf("%d steps; want %d", got, tc.wantSteps)
			}
			detail := findingDetail(res, "highest sustainable rate")
			if !strings.Contains(detail, tc.wantStop) {
				t.Errorf("finding %q; want it to say %q", detail, tc.wantStop)
			}
			ramp := res.main()
			var steps uint64
			for _, s := range res.Streams[1:] {
				steps += s.Requests
				if s.Timeline != nil {
					t.Errorf("step %s keeps a timeline; the ramp's holds it", s.Stream)
				}
			}
			if ramp.Stream != "ramp" || ramp.Requests != steps || ramp.Timeline == nil {
				t.Errorf("ramp %s: %d requests, timeline %v; want the steps' %d", ramp.Stream, ramp.Requests, ramp.Timeline != nil, steps)
			}
			if int64(steps) > tc.maxRequests {
				t.Errorf("%d requests; the cap is %d", steps, tc.maxRequests)
			}
			if took > tc.duration+2*time.Second {
				t.Errorf("took %s; bounded by %s", took, tc.duration)
			}
		})
	}
}

func findingDetail(r *ScenarioResult, check string) string {
	for _, f := range r.Findings {
		if f.Check == check {
			return f.Detail
		}
	}
	return ""
}
