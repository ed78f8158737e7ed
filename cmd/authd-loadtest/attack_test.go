package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// countingServer answers 200 "ok" and counts the requests it got.
func countingServer(t *testing.T, delay time.Duration) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if delay > 0 {
			time.Sleep(delay)
		}
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func okPlan(url string, s attackSettings) plan {
	return plan{
		name:     "main",
		settings: s,
		targeter: constant(vegeta.Target{Method: http.MethodGet, URL: url}),
		classify: expect200("ok", "ok"),
	}
}

func TestRunPlanStopsAtMaxRequests(t *testing.T) {
	srv, n := countingServer(t, 0)
	s := runPlan(context.Background(), okPlan(srv.URL, attackSettings{
		Workers: 8, MaxWorkers: 8, Duration: time.Minute, MaxRequests: 50, Timeout: 5 * time.Second,
	}))
	if s.Requests != 50 || s.OK != 50 || n.Load() != 50 {
		t.Fatalf("sent %d (server saw %d, ok %d); want exactly 50 and no stop marker counted", s.Requests, n.Load(), s.OK)
	}
	if _, ok := s.StatusCodes["0"]; ok {
		t.Errorf("status codes %v include the stop marker", s.StatusCodes)
	}
}

func TestRunPlanStopsAtDuration(t *testing.T) {
	srv, _ := countingServer(t, time.Millisecond)
	start := time.Now()
	s := runPlan(context.Background(), okPlan(srv.URL, attackSettings{
		Workers: 4, MaxWorkers: 4, Duration: 300 * time.Millisecond, MaxRequests: 1 << 30, Timeout: 5 * time.Second,
	}))
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("a 300ms run took %s", took)
	}
	if s.Requests == 0 || s.SuccessRatio != 1 {
		t.Fatalf("summary %+v", s)
	}
}

func TestRunPlanOpenLoopRate(t *testing.T) {
	srv, _ := countingServer(t, 0)
	s := runPlan(context.Background(), okPlan(srv.URL, attackSettings{
		Rate: 100, Workers: 2, MaxWorkers: 16, Duration: 500 * time.Millisecond, MaxRequests: 1000, Timeout: 5 * time.Second,
	}))
	// 100/s for 0.5s is 50 requests, give or take the edges.
	if s.Requests < 35 || s.Requests > 65 {
		t.Fatalf("%d requests at 100/s for 0.5s; want about 50", s.Requests)
	}
	if s.Rate != 100 {
		t.Errorf("summary rate %d; want 100", s.Rate)
	}
}

func TestRunPlanStopsWhenCancelled(t *testing.T) {
	srv, _ := countingServer(t, time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	runPlan(ctx, okPlan(srv.URL, attackSettings{
		Workers: 4, MaxWorkers: 4, Duration: time.Minute, MaxRequests: 1 << 30, Timeout: 5 * time.Second,
	}))
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("cancelled run took %s", took)
	}
}

func TestRunPlanNeverLeavesLoopback(t *testing.T) {
	// A target outside loopback (TEST-NET-1, never routed) must fail at the
	// dialer, not be sent.
	s := runPlan(context.Background(), okPlan("http://192.0.2.1/", attackSettings{
		Workers: 1, MaxWorkers: 1, Duration: time.Second, MaxRequests: 3, Timeout: time.Second,
	}))
	if s.Requests != 3 || s.OK != 0 || s.StatusCodes["0"] != 3 || len(s.Errors) == 0 {
		t.Fatalf("summary %+v; want 3 refused dials", s)
	}
}

func TestRunConcurrentlyKeepsOrder(t *testing.T) {
	srv, _ := countingServer(t, 0)
	s := attackSettings{Workers: 2, MaxWorkers: 2, Duration: time.Second, MaxRequests: 5, Timeout: time.Second}
	a, b := okPlan(srv.URL, s), okPlan(srv.URL, s)
	a.name, b.name = "first", "second"
	b.settings.MaxRequests = 7
	out := runConcurrently(context.Background(), a, b)
	if out[0].Stream != "first" || out[0].Requests != 5 || out[1].Stream != "second" || out[1].Requests != 7 {
		t.Fatalf("got %s:%d %s:%d", out[0].Stream, out[0].Requests, out[1].Stream, out[1].Requests)
	}
}
