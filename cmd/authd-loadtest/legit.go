package main

import (
	"fmt"
	"time"
)

// Legitimate traffic measured beside an attack: paced at --legit-rate, so
// its latencies are those a well-behaved client sees while the attack runs.

// legitSettings is an open-loop stream at rate for d.
func (e *env) legitSettings(rate int, d time.Duration) attackSettings {
	return attackSettings{
		Rate:        rate,
		Workers:     4,
		MaxWorkers:  256,
		Duration:    d,
		MaxRequests: e.o.maxRequests,
		Timeout:     e.o.timeout,
	}
}

// legitTokenPlan issues JWTs with client_credentials, the hot path every
// resource owner's service relies on.
func (e *env) legitTokenPlan(name string, d time.Duration) (plan, bool) {
	c, ok := e.fx.client(roleJWT)
	if !ok {
		return plan{}, false
	}
	t := postForm(e.base+pathToken, basicAuth(c), []byte("grant_type=client_credentials"))
	return plan{
		name:     name,
		settings: e.legitSettings(e.o.legitRate, d),
		targeter: constant(t),
		classify: expect200(`"access_token"`, "issued"),
	}, true
}

// calmDuration is how long legitimate traffic is measured alone before an
// attack starts: a quarter of the run, from 2 to 10 seconds, never more than
// the run itself.
func calmDuration(d time.Duration) time.Duration {
	return min(d, max(2*time.Second, min(d/4, 10*time.Second)))
}

// compareLegit adds a finding comparing legitimate traffic before and during
// an attack.
func compareLegit(res *ScenarioResult, calm, under *Summary) {
	if calm == nil || under == nil {
		return
	}
	res.info("legitimate traffic",
		"calm: %s expected, p50 %s, p99 %s; under attack: %s expected, p50 %s, p99 %s (%s)",
		pct(calm.SuccessRatio), fmtMS(calm.Latency.P50), fmtMS(calm.Latency.P99),
		pct(under.SuccessRatio), fmtMS(under.Latency.P50), fmtMS(under.Latency.P99),
		slowdown(calm.Latency.P99, under.Latency.P99))
}

func slowdown(calm, under float64) string {
	if calm <= 0 {
		return "no calm figure"
	}
	return fmt.Sprintf("p99 ×%.1f", under/calm)
}
