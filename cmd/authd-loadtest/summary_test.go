package main

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func result(at time.Duration, lat time.Duration, code uint16, body, errText string) *vegeta.Result {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return &vegeta.Result{Timestamp: t0.Add(at), Latency: lat, Code: code, Body: []byte(body), Error: errText, Method: "POST", URL: "http://127.0.0.1/x"}
}

func TestCollectorAggregates(t *testing.T) {
	c := newCollector(introspectActive)
	// 100 answers over one second (the last ends at 1s): 90 active, 5
	// inactive, 3 throttled, 2 transport errors of one kind.
	for i := range 100 {
		at := time.Duration(i) * 9 * time.Millisecond
		lat := time.Duration(i+1) * time.Millisecond
		switch {
		case i < 90:
			c.add(result(at, lat, 200, `{"active":true}`, ""))
		case i < 95:
			c.add(result(at, lat, 200, `{"active":false}`, ""))
		case i < 98:
			c.add(result(at, lat, 429, `{"error":"temporarily_unavailable"}`, "429 Too Many Requests"))
		default:
			c.add(result(at, lat, 0, "", "connection refused"))
		}
	}
	s := c.summary("main", attackSettings{Rate: 0, Workers: 8}, 0)

	if s.Requests != 100 || s.OK != 90 {
		t.Errorf("requests=%d ok=%d; want 100, 90", s.Requests, s.OK)
	}
	if s.SuccessRatio != 0.9 {
		t.Errorf("success ratio %v; want 0.9", s.SuccessRatio)
	}
	wantCodes := map[string]int{"200": 95, "429": 3, "0": 2}
	for k, v := range wantCodes {
		if s.StatusCodes[k] != v {
			t.Errorf("status %s: %d; want %d (all: %v)", k, s.StatusCodes[k], v, s.StatusCodes)
		}
	}
	wantOutcomes := map[string]uint64{"active": 90, "inactive": 5, "throttled-429": 3, "transport-error": 2}
	for k, v := range wantOutcomes {
		if s.Outcomes[k] != v {
			t.Errorf("outcome %s: %d; want %d (all: %v)", k, s.Outcomes[k], v, s.Outcomes)
		}
	}
	if len(s.Errors) != 1 || s.Errors[0] != "connection refused" {
		t.Errorf("errors %q; want the one transport error, once", s.Errors)
	}
	// First sent at 0, last answer at 99×9ms + 100ms = 991ms.
	if math.Abs(s.Seconds-0.991) > 1e-9 {
		t.Errorf("seconds %v; want 0.991", s.Seconds)
	}
	if math.Abs(s.RPS-100/0.991) > 1e-6 || math.Abs(s.OKRPS-90/0.991) > 1e-6 {
		t.Errorf("rps %v ok_rps %v", s.RPS, s.OKRPS)
	}
	if s.Latency.Max != 100 {
		t.Errorf("max latency %vms; want 100", s.Latency.Max)
	}
	// Latencies are 1..100 ms: the estimates must be near the true quantiles.
	for name, got := range map[string][2]float64{"p50": {s.Latency.P50, 50}, "p95": {s.Latency.P95, 95}, "p99": {s.Latency.P99, 99}} {
		if math.Abs(got[0]-got[1]) > 2 {
			t.Errorf("%s = %vms; want about %vms", name, got[0], got[1])
		}
	}
	if s.ItemsPerRequest != 0 || s.Throughput() != s.OKRPS {
		t.Errorf("a single-item stream reports items: %+v", s)
	}
}

func TestCollectorKeepsFewErrors(t *testing.T) {
	c := newCollector(introspectActive)
	for i := range 20 {
		c.add(result(time.Duration(i)*time.Millisecond, time.Millisecond, 0, "", "error "+strings.Repeat("x", i)))
	}
	if s := c.summary("main", attackSettings{}, 0); len(s.Errors) != maxErrorsKept {
		t.Fatalf("%d errors kept; want %d", len(s.Errors), maxErrorsKept)
	}
}

func TestCollectorBatchItems(t *testing.T) {
	c := newCollector(func(*vegeta.Result) (string, bool) { return "ok", true })
	for i := range 10 {
		c.add(result(time.Duration(i)*100*time.Millisecond, 100*time.Millisecond, 200, "", ""))
	}
	s := c.summary("main", attackSettings{}, batchSize)
	// 10 requests over exactly 1s: 10 req/s, 1000 tokens/s.
	if s.OKRPS != 10 || s.ItemsPerRequest != batchSize || s.ItemsPerSecond != 1000 || s.Throughput() != 1000 {
		t.Fatalf("summary %+v; want 10 req/s and 1000 items/s", s)
	}
}

func TestEmptySummary(t *testing.T) {
	s := newCollector(introspectActive).summary("main", attackSettings{}, 0)
	if s.Requests != 0 || s.RPS != 0 || s.SuccessRatio != 0 || s.StatusCodes == nil {
		t.Fatalf("empty summary %+v", s)
	}
}

func TestGoalVerdicts(t *testing.T) {
	tests := []struct {
		name       string
		goal       goal
		throughput float64
		ratio      float64
		want       string
	}{
		{name: "ratio met", goal: goal{minRatio: 0.7}, ratio: 0.7, want: "met"},
		{name: "ratio missed", goal: goal{minRatio: 0.7}, ratio: 0.69, want: "not met"},
		{name: "no baseline", goal: goal{minRatio: 0.7}, ratio: 0, want: ""},
		{name: "absolute met", goal: goal{minAbs: 100_000}, throughput: 100_000, want: "met"},
		{name: "absolute missed", goal: goal{minAbs: 100_000}, throughput: 99_999, want: "not met"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.goal.verdict(tc.throughput, tc.ratio); got != tc.want {
				t.Fatalf("verdict = %q; want %q", got, tc.want)
			}
		})
	}
}

func TestWriteTableRatios(t *testing.T) {
	sum := func(okrps float64, items int) *Summary {
		s := &Summary{OKRPS: okrps, SuccessRatio: 1, Latency: Latency{P50: 1, P95: 2, P99: 3}}
		if items > 1 {
			s.ItemsPerRequest, s.ItemsPerSecond = items, okrps*float64(items)
		}
		return s
	}
	results := []*ScenarioResult{
		{Scenario: "token-jwt", Target: "sqlite", Status: statusOK, Streams: []*Summary{sum(7500, 0)}},
		{Scenario: "token-jwt", Target: "baseline", Status: statusOK, Streams: []*Summary{sum(10000, 0)}},
		{Scenario: "introspect-batch", Target: "sqlite", Status: statusOK, Streams: []*Summary{sum(900, batchSize)}},
		{Scenario: "introspect-batch", Target: "baseline", Status: statusOK, Streams: []*Summary{sum(3000, batchSize)}},
		{Scenario: "stuffing", Target: "sqlite", Status: statusUnsupported},
		// stress compares highest sustainable rates, not the ramp's average.
		{Scenario: "stress", Target: "sqlite", Status: statusOK, SustainableRate: 600, Streams: []*Summary{sum(123, 0)}},
		{Scenario: "stress", Target: "baseline", Status: statusOK, SustainableRate: 800, Streams: []*Summary{sum(999, 0)}},
	}
	var buf bytes.Buffer
	if err := writeTable(&buf, results, "baseline"); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"75.00%", "≥ 90% not met", // token-jwt: 7500 / 10000
		"90000", "30.00%", "≥ 90% not met", // batch: 900 × 100 tokens/s, ratio on tokens
		"unsupported",
		"75.00%  sustains 600/s", "sustains 800/s",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 8 {
		t.Fatalf("%d lines; want a header and 7 rows:\n%s", len(lines), out)
	}
	for _, l := range lines {
		if strings.Contains(l, "baseline") && strings.Contains(l, "%  ≥") {
			t.Errorf("baseline row judged against a goal: %q", l)
		}
	}
}
