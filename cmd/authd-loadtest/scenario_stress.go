package main

import (
	"context"
	"fmt"
	"time"
)

// stress: the --mix at an open-loop rate that steps up, from --stress-start
// by --stress-step every --stress-step-duration, until a step's p99 passes
// --stress-p99, its share of unexpected answers passes --stress-errors, or
// the tool cannot send at the rate (the server holds every worker), and
// reports the highest rate whose step stayed within the limits. Open loop
// matters here: a closed loop would slow down with the server and never see
// the queue build.
//
// Bounds: the steps stop at --stress-max-rate, and all of them together
// within --duration and --max-requests, like any other scenario.

// stressSettings are the stress flags.
type stressSettings struct {
	start, step, maxRate int
	stepDuration         time.Duration
	p99                  time.Duration
	errorsPct            float64
}

// minAchievedRate is the share of a step's rate the tool must have sent for
// the step to count: below it the server (or the tool) could not keep up.
const minAchievedRate = 0.9

func runStress(ctx context.Context, e *env) *ScenarioResult {
	const name = "stress"
	st := e.o.stress
	targeter, classify, firsts, err := mixPlan(e, e.o.mix)
	if err != nil {
		return e.unsupportedResult(name, "--mix %s", err)
	}
	for _, t := range firsts {
		if r := e.preflight(ctx, name, t); r != nil {
			return r
		}
	}
	res := e.result(name)
	res.info("mix", "%s", mixString(e.o.mix))
	e.logf("%s: from %d/s by %d/s every %s, until p99 > %s or errors > %g%% (at most %s)",
		name, st.start, st.step, st.stepDuration, st.p99, st.errorsPct, e.settings.Duration)

	// The whole ramp is one stream too (Streams[0]): its charts show the
	// latency climbing with the rate.
	all := newCollector(classify)
	all.tl.start = time.Now()
	deadline := all.tl.start.Add(e.settings.Duration)
	budget := e.settings.MaxRequests
	var steps []*Summary
	sustained, stopped := 0, "the largest rate (--stress-max-rate) stayed within the limits"
	for rate := st.start; rate <= st.maxRate; rate += st.step {
		left := time.Until(deadline)
		if ctx.Err() != nil {
			stopped = "interrupted"
			break
		}
		if len(steps) > 0 && left < st.stepDuration {
			stopped = fmt.Sprintf("--duration %s ran out", e.settings.Duration)
			break
		}
		// A step cut short by the budget would be judged on a burst, not a
		// rate: only the first step may run short.
		if need := int64(float64(rate) * st.stepDuration.Seconds()); budget <= 0 || (len(steps) > 0 && budget < need) {
			stopped = fmt.Sprintf("--max-requests %d ran out", e.settings.MaxRequests)
			break
		}
		s := e.settings
		s.Rate = rate
		s.Duration = min(st.stepDuration, left)
		s.MaxRequests = budget
		p := plan{name: fmt.Sprintf("step %d/s", rate), settings: s, targeter: targeter, classify: classify,
			progress: e.progress, also: all}
		sum := runPlan(ctx, p)
		sum.Timeline = nil // the ramp's timeline has it; one per step would only repeat it
		steps = append(steps, sum)
		budget -= int64(sum.Requests)
		why := stressVerdict(sum, st, rate)
		e.logf("%s at %d/s: %.0f req/s, p99 %s, %.2f%% unexpected", name, rate, sum.RPS, fmtMS(sum.Latency.P99), 100*errorRatio(sum))
		if why != "" {
			stopped = fmt.Sprintf("at %d/s %s", rate, why)
			break
		}
		sustained = rate
	}
	ramp := all.summary("ramp", e.settings, 0)
	ramp.Rate = sustained
	res.Streams = append([]*Summary{ramp}, steps...)
	res.SustainableRate = sustained
	if sustained == 0 {
		res.info("highest sustainable rate", "none: the first step (%d/s) already passed a limit (%s)", st.start, stopped)
	} else {
		res.info("highest sustainable rate", "%d/s (p99 ≤ %s, unexpected answers ≤ %g%%); stopped: %s",
			sustained, st.p99, st.errorsPct, stopped)
	}
	return res
}

// stressVerdict says why a step at rate is not sustainable, or "" when it is.
func stressVerdict(s *Summary, st stressSettings, rate int) string {
	switch {
	case s.Requests == 0:
		return "no answers"
	case s.Latency.P99 > ms(st.p99):
		return fmt.Sprintf("p99 %s passed %s", fmtMS(s.Latency.P99), st.p99)
	case 100*errorRatio(s) > st.errorsPct:
		return fmt.Sprintf("%.2f%% unexpected answers passed %g%%", 100*errorRatio(s), st.errorsPct)
	case s.RPS < minAchievedRate*float64(rate):
		return fmt.Sprintf("only %.0f req/s went out", s.RPS)
	}
	return ""
}
