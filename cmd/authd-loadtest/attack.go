package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// attackSettings is the shape of one stream of load.
type attackSettings struct {
	// Rate is requests per second, paced open loop: requests go out on
	// schedule whether or not earlier ones were answered, so a slow server
	// shows as latency rather than as fewer requests (no coordinated
	// omission). 0 means closed loop: Workers requests in flight at all times,
	// the next sent when one is answered, as wrk -c does; that finds the
	// maximum throughput, and its latencies are those of a saturated server.
	Rate int
	// Workers is the concurrency of a closed loop, and the initial worker
	// count of an open loop, which grows up to MaxWorkers when answers lag.
	Workers    int
	MaxWorkers int
	// Duration and MaxRequests bound the stream; whichever comes first ends it.
	Duration    time.Duration
	MaxRequests int64
	Timeout     time.Duration
}

// plan is one stream of requests: what to send, how to judge each answer and
// the load shape. targeter is called from many goroutines at once.
type plan struct {
	name     string
	settings attackSettings
	targeter vegeta.Targeter
	classify classifier
	// items is how many things one request carries (100 tokens for batch).
	items int
	// source is the loopback address requests come from ("" = the system's
	// choice, 127.0.0.1). Attack plans use attackSource so that the server's
	// per-address limits can tell the attacker from legitimate traffic, as
	// they would on a network.
	source string
	// progress, when set, shows the stream live on a terminal.
	progress *progress
	// also, when set, counts every answer too: a stream made of several
	// plans run one after the other (stress's steps).
	also *collector
	// split, when set, also counts each answer in a part of the stream of
	// its own (mixed: one per kind of request).
	split *splitter
}

// splitter divides a stream's answers into parts by key, each with the
// figures of a stream (and a timeline). One goroutine adds to it.
type splitter struct {
	key      func(r *vegeta.Result) string
	classify classifier
	order    []string // parts in the order their keys were first seen
	parts    map[string]*collector
}

func newSplitter(key func(r *vegeta.Result) string, c classifier) *splitter {
	return &splitter{key: key, classify: c, parts: map[string]*collector{}}
}

func (sp *splitter) add(r *vegeta.Result) {
	k := sp.key(r)
	c, ok := sp.parts[k]
	if !ok {
		c = newCollector(sp.classify)
		sp.parts[k] = c
		sp.order = append(sp.order, k)
	}
	c.add(r)
}

// summaries returns each part's figures, named prefix+key, in keys' order
// when given (parts with no answers left out), else as first seen.
func (sp *splitter) summaries(prefix string, s attackSettings, keys []string) []*Summary {
	if keys == nil {
		keys = sp.order
	}
	var out []*Summary
	for _, k := range keys {
		if c, ok := sp.parts[k]; ok {
			out = append(out, c.summary(prefix+k, s, 0))
		}
	}
	return out
}

// attackSource is where simulated attacks come from: another loopback address.
const attackSource = "127.0.0.2"

// maxResponseBody caps how much of an answer is kept for classification: a
// batch of 100 introspection results fits well within it.
const maxResponseBody = 1 << 20

// capped ends the attack after max targets: vegeta stops an attack when its
// targeter returns ErrNoTargets.
func capped(tr vegeta.Targeter, max int64) vegeta.Targeter {
	var n atomic.Int64
	return func(t *vegeta.Target) error {
		if n.Add(1) > max {
			return vegeta.ErrNoTargets
		}
		return tr(t)
	}
}

// isStopMarker reports whether r is the placeholder result vegeta emits when
// the targeter ran dry: no request was sent, so it must not be counted.
func isStopMarker(r *vegeta.Result) bool {
	return r.Method == "" && r.Code == 0 && r.Error == vegeta.ErrNoTargets.Error()
}

// runPlan sends p's stream until its duration or request cap runs out (or ctx
// ends) and returns what happened. Every request goes through a client that
// dials loopback addresses only.
func runPlan(ctx context.Context, p plan) *Summary {
	s := p.settings
	conns := s.Workers
	if s.Rate > 0 {
		conns = s.MaxWorkers
	}
	client := newHTTPClient(s.Timeout, conns, p.source)
	defer client.CloseIdleConnections()

	opts := []func(*vegeta.Attacker){vegeta.Client(client), vegeta.MaxBody(maxResponseBody)}
	pacer := vegeta.Rate{Freq: s.Rate, Per: time.Second}
	if s.Rate > 0 {
		opts = append(opts, vegeta.Workers(uint64(min(s.Workers, s.MaxWorkers))), vegeta.MaxWorkers(uint64(s.MaxWorkers)))
	} else {
		pacer = vegeta.Rate{Freq: 0, Per: time.Second} // unpaced: as fast as the workers go
		opts = append(opts, vegeta.Workers(uint64(s.Workers)), vegeta.MaxWorkers(uint64(s.Workers)))
	}
	atk := vegeta.NewAttacker(opts...)

	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-ctx.Done():
			atk.Stop()
		case <-done:
		}
	}()

	col := newCollector(p.classify)
	col.tl.start = time.Now()
	if p.progress != nil {
		defer p.progress.watch(p.name, col.tl)()
	}
	for r := range atk.Attack(capped(p.targeter, s.MaxRequests), pacer, s.Duration, p.name) {
		if isStopMarker(r) {
			continue
		}
		col.add(r)
		if p.also != nil {
			p.also.add(r)
		}
		if p.split != nil {
			p.split.add(r)
		}
	}
	close(done)
	wg.Wait()
	return col.summary(p.name, s, p.items)
}

// runConcurrently runs plans at the same time and returns their summaries in
// the order given: attack traffic beside the legitimate traffic it disturbs.
func runConcurrently(ctx context.Context, plans ...plan) []*Summary {
	out := make([]*Summary, len(plans))
	var wg sync.WaitGroup
	for i := range plans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = runPlan(ctx, plans[i])
		}()
	}
	wg.Wait()
	return out
}

// runPlan runs p with the run's progress line.
func (e *env) runPlan(ctx context.Context, p plan) *Summary {
	p.progress = e.progress
	return runPlan(ctx, p)
}

// runConcurrently runs plans with the run's progress line, which shows them side by side.
func (e *env) runConcurrently(ctx context.Context, plans ...plan) []*Summary {
	for i := range plans {
		plans[i].progress = e.progress
	}
	return runConcurrently(ctx, plans...)
}
