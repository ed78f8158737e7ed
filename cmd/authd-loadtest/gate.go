package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// --fail-if: conditions that fail a run for CI, such as
// "p99>50ms,errors>1%,rps<1000". Each names a metric, < or > and a value;
// a run fails when any condition holds for any scenario result of a target
// other than the baseline. Latencies take Go durations (50ms, 1.5s), errors
// a percentage of answers that were not as expected (1% or 1), rps expected
// answers per second (the table's REQ/S).

// Bounds of a --fail-if value: it comes from a command line or a CI file,
// so a parser that refuses anything odd is all the protection it needs.
const (
	maxGateLength     = 1024
	maxGateConditions = 32
)

// gateMetric says how a condition reads its figure from a summary.
type gateMetric struct {
	name    string
	latency bool // the value is a duration
	percent bool // the value is a percentage, 0 to 100
	figure  func(s *Summary) float64
}

var gateMetrics = []gateMetric{
	{name: "p50", latency: true, figure: func(s *Summary) float64 { return s.Latency.P50 }},
	{name: "p90", latency: true, figure: func(s *Summary) float64 { return s.Latency.P90 }},
	{name: "p95", latency: true, figure: func(s *Summary) float64 { return s.Latency.P95 }},
	{name: "p99", latency: true, figure: func(s *Summary) float64 { return s.Latency.P99 }},
	{name: "max", latency: true, figure: func(s *Summary) float64 { return s.Latency.Max }},
	{name: "mean", latency: true, figure: func(s *Summary) float64 { return s.Latency.Mean }},
	{name: "errors", percent: true, figure: func(s *Summary) float64 { return 100 * errorRatio(s) }},
	{name: "rps", figure: func(s *Summary) float64 { return s.OKRPS }},
}

// errorRatio is the share of a stream's answers that were not as expected.
func errorRatio(s *Summary) float64 {
	if s.Requests == 0 {
		return 0
	}
	return float64(s.Requests-s.OK) / float64(s.Requests)
}

// condition is one parsed --fail-if term: fail when metric op limit.
type condition struct {
	text   string // as written, normalised: "p99>50ms"
	metric *gateMetric
	less   bool    // < rather than >
	limit  float64 // ms for latencies, percent for errors, per second for rps
}

func (c condition) holds(s *Summary) bool {
	v := c.metric.figure(s)
	if c.less {
		return v < c.limit
	}
	return v > c.limit
}

// format renders a figure in the condition's unit.
func (c condition) format(v float64) string {
	switch {
	case c.metric.latency:
		return fmtMS(v)
	case c.metric.percent:
		return strconv.FormatFloat(v, 'f', 2, 64) + "%"
	}
	return strconv.FormatFloat(v, 'f', 0, 64) + "/s"
}

// parseFailIf parses a --fail-if value; "" is no conditions.
func parseFailIf(spec string) ([]condition, error) {
	if len(spec) > maxGateLength {
		return nil, fmt.Errorf("--fail-if: longer than %d characters", maxGateLength)
	}
	if strings.TrimSpace(spec) == "" {
		return nil, nil
	}
	parts := strings.Split(spec, ",")
	if len(parts) > maxGateConditions {
		return nil, fmt.Errorf("--fail-if: more than %d conditions", maxGateConditions)
	}
	out := make([]condition, 0, len(parts))
	for _, part := range parts {
		c, err := parseCondition(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("--fail-if %q: %w", part, err)
		}
		out = append(out, c)
	}
	return out, nil
}

func parseCondition(s string) (condition, error) {
	i := strings.IndexAny(s, "<>")
	if i < 0 {
		return condition{}, errors.New("want METRIC<VALUE or METRIC>VALUE, such as p99>50ms")
	}
	name := strings.ToLower(strings.TrimSpace(s[:i]))
	val := strings.TrimSpace(s[i+1:])
	c := condition{less: s[i] == '<'}
	for j := range gateMetrics {
		if gateMetrics[j].name == name {
			c.metric = &gateMetrics[j]
		}
	}
	if c.metric == nil {
		names := make([]string, len(gateMetrics))
		for j, m := range gateMetrics {
			names[j] = m.name
		}
		return condition{}, fmt.Errorf("unknown metric %q (known: %s)", name, strings.Join(names, ", "))
	}
	if val == "" || strings.ContainsAny(val, "<>=") {
		return condition{}, errors.New("one < or > and a value after it")
	}
	switch {
	case c.metric.latency:
		d, err := time.ParseDuration(val)
		if err != nil || d < 0 {
			return condition{}, fmt.Errorf("%s takes a duration such as 50ms or 1.5s", name)
		}
		c.limit = ms(d)
	case c.metric.percent:
		f, err := strconv.ParseFloat(strings.TrimSuffix(val, "%"), 64)
		if err != nil || !(f >= 0 && f <= 100) { // also refuses NaN
			return condition{}, fmt.Errorf("%s takes a percentage from 0 to 100, such as 1%%", name)
		}
		c.limit = f
	default:
		f, err := strconv.ParseFloat(val, 64)
		if err != nil || !(f >= 0 && f <= 1e12) { // also refuses NaN
			return condition{}, fmt.Errorf("%s takes requests per second, such as 1000", name)
		}
		c.limit = f
	}
	op := ">"
	if c.less {
		op = "<"
	}
	c.text = name + op + val
	return c, nil
}

// errGateFailed is returned when a --fail-if condition held: the command
// exits 1, not 2, so CI can tell a missed target from a broken run.
var errGateFailed = errors.New("--fail-if: the run failed its conditions")

// checkGate writes a line per condition that holds for a result of a target
// other than baselineLabel (and per result that did not run at all), and
// returns errGateFailed if there was any.
func checkGate(w io.Writer, conds []condition, results []*ScenarioResult, baselineLabel string) error {
	if len(conds) == 0 {
		return nil
	}
	failed := 0
	for _, r := range results {
		if r.Target == baselineLabel {
			continue
		}
		s := r.main()
		if s == nil {
			// An unsupported scenario is not a miss; one that could not run is.
			if r.Status == statusFailed {
				failed++
				fmt.Fprintf(w, "FAIL %s @ %s: did not run (%s)\n", r.Scenario, r.Target, strings.Join(r.Notes, "; "))
			}
			continue
		}
		for _, c := range conds {
			if c.holds(s) {
				failed++
				fmt.Fprintf(w, "FAIL %s @ %s: %s (it was %s)\n", r.Scenario, r.Target, c.text, c.format(c.metric.figure(s)))
			}
		}
	}
	if failed > 0 {
		return errGateFailed
	}
	return nil
}
