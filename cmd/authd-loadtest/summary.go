package main

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// classifier names what one response was (its outcome, e.g. "active",
// "refused-401") and whether that is what the stream expected. A scenario's
// success ratio counts expected outcomes, not merely 2xx answers.
type classifier func(r *vegeta.Result) (outcome string, ok bool)

// Latency holds latency figures in milliseconds.
type Latency struct {
	Mean float64 `json:"mean_ms"`
	P50  float64 `json:"p50_ms"`
	P90  float64 `json:"p90_ms"`
	P95  float64 `json:"p95_ms"`
	P99  float64 `json:"p99_ms"`
	Max  float64 `json:"max_ms"`
}

// Summary is what one stream of requests did.
type Summary struct {
	Stream string `json:"stream"`
	// Rate is the requested rate (0: closed loop) and Workers the concurrency.
	Rate    int `json:"rate"`
	Workers int `json:"workers"`

	Requests     uint64            `json:"requests"`
	OK           uint64            `json:"ok"`
	SuccessRatio float64           `json:"success_ratio"`
	StatusCodes  map[string]int    `json:"status_codes"` // "0" counts transport errors
	Outcomes     map[string]uint64 `json:"outcomes"`
	Errors       []string          `json:"errors,omitempty"` // distinct transport errors, a few
	Seconds      float64           `json:"seconds"`
	// RPS counts every answer per second; OKRPS only the expected ones.
	RPS   float64 `json:"rps"`
	OKRPS float64 `json:"ok_rps"`
	// ItemsPerRequest is set for batch streams (100 tokens per request);
	// ItemsPerSecond is then OKRPS × ItemsPerRequest.
	ItemsPerRequest int     `json:"items_per_request,omitempty"`
	ItemsPerSecond  float64 `json:"items_per_second,omitempty"`
	Latency         Latency `json:"latency"`
	// Timeline is the stream over time, for the HTML report's charts.
	Timeline *Timeline `json:"timeline,omitempty"`
}

// maxErrorsKept bounds how many distinct transport errors a summary lists.
const maxErrorsKept = 5

// collector aggregates results into a Summary. It is not safe for concurrent
// use: one goroutine drains an attack's result channel into it.
type collector struct {
	classify classifier
	metrics  vegeta.Metrics
	ok       uint64
	outcomes map[string]uint64
	errs     []string
	first    time.Time
	end      time.Time
	tl       *timeline // also read by the progress line while the stream runs
}

func newCollector(c classifier) *collector {
	return &collector{classify: c, outcomes: map[string]uint64{}, tl: newTimeline(time.Time{})}
}

// add counts one result.
func (c *collector) add(r *vegeta.Result) {
	c.metrics.Add(r)
	outcome, ok := c.classify(r)
	c.outcomes[outcome]++
	if ok {
		c.ok++
	}
	c.tl.add(r.Timestamp, r.Latency, ok)
	if r.Code == 0 && r.Error != "" && len(c.errs) < maxErrorsKept && !slices.Contains(c.errs, r.Error) {
		c.errs = append(c.errs, r.Error)
	}
	if c.first.IsZero() || r.Timestamp.Before(c.first) {
		c.first = r.Timestamp
	}
	if e := r.End(); e.After(c.end) {
		c.end = e
	}
}

// summary closes the metrics and returns the stream's figures. Rates are over
// the time from the first request sent to the last answer received.
func (c *collector) summary(stream string, s attackSettings, items int) *Summary {
	c.metrics.Close()
	m := &c.metrics
	out := &Summary{
		Stream:      stream,
		Rate:        s.Rate,
		Workers:     s.Workers,
		Requests:    m.Requests,
		OK:          c.ok,
		StatusCodes: m.StatusCodes,
		Outcomes:    c.outcomes,
		Errors:      c.errs,
		Latency: Latency{
			Mean: ms(m.Latencies.Mean),
			P50:  ms(m.Latencies.P50),
			P90:  ms(m.Latencies.P90),
			P95:  ms(m.Latencies.P95),
			P99:  ms(m.Latencies.P99),
			Max:  ms(m.Latencies.Max),
		},
	}
	out.Timeline = c.tl.export()
	if out.StatusCodes == nil {
		out.StatusCodes = map[string]int{}
	}
	if m.Requests > 0 {
		out.SuccessRatio = float64(c.ok) / float64(m.Requests)
	}
	if secs := c.end.Sub(c.first).Seconds(); secs > 0 {
		out.Seconds = secs
		out.RPS = float64(m.Requests) / secs
		out.OKRPS = float64(c.ok) / secs
	}
	if items > 1 {
		out.ItemsPerRequest = items
		out.ItemsPerSecond = out.OKRPS * float64(items)
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Throughput is the headline figure of a summary: items per second for batch
// streams, expected answers per second otherwise.
func (s *Summary) Throughput() float64 {
	if s.ItemsPerRequest > 1 {
		return s.ItemsPerSecond
	}
	return s.OKRPS
}

// ratio returns a/b, or 0 when b is 0 (no baseline figure).
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// writeSummary prints one stream in a few aligned lines.
func writeSummary(w io.Writer, s *Summary) {
	fmt.Fprintf(w, "  [%s] %d requests in %.1fs, %s expected (%s), %.0f req/s, %.0f expected/s",
		s.Stream, s.Requests, s.Seconds, pct(s.SuccessRatio), countStr(s.OK), s.RPS, s.OKRPS)
	if s.ItemsPerRequest > 1 {
		fmt.Fprintf(w, ", %.0f tokens/s (%d per request)", s.ItemsPerSecond, s.ItemsPerRequest)
	}
	load := "closed loop"
	if s.Rate > 0 {
		load = fmt.Sprintf("open loop at %d/s", s.Rate)
	}
	fmt.Fprintf(w, "\n      load      %s, %d workers\n", load, s.Workers)
	fmt.Fprintf(w, "      latency   p50 %s  p95 %s  p99 %s  max %s\n",
		fmtMS(s.Latency.P50), fmtMS(s.Latency.P95), fmtMS(s.Latency.P99), fmtMS(s.Latency.Max))
	fmt.Fprintf(w, "      status    %s\n", codesString(s.StatusCodes))
	fmt.Fprintf(w, "      outcomes  %s\n", outcomesString(s.Outcomes))
	for _, e := range s.Errors {
		fmt.Fprintf(w, "      error     %s\n", e)
	}
}

func countStr(n uint64) string { return strconv.FormatUint(n, 10) }

func pct(f float64) string { return strconv.FormatFloat(100*f, 'f', 2, 64) + "%" }

// fmtMS prints a latency with a precision that suits its size.
func fmtMS(v float64) string {
	switch {
	case v == 0:
		return "-"
	case v < 1:
		return strconv.FormatFloat(v*1000, 'f', 0, 64) + "µs"
	case v < 100:
		return strconv.FormatFloat(v, 'f', 2, 64) + "ms"
	default:
		return strconv.FormatFloat(v, 'f', 0, 64) + "ms"
	}
}

// codesString renders status counts in code order; code 0 is "error".
func codesString(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, _ := strconv.Atoi(keys[i])
		b, _ := strconv.Atoi(keys[j])
		return a < b
	})
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		name := k
		if k == "0" {
			name = "error"
		}
		parts = append(parts, fmt.Sprintf("%s:%d", name, m[k]))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

// outcomesString renders outcome counts, most frequent first.
func outcomesString(m map[string]uint64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s:%d", k, m[k]))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}
