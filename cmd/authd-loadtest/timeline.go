package main

import (
	"math/bits"
	"sync"
	"time"
)

// What the charts of the HTML report and the live progress line need,
// recorded while a stream runs: per-second buckets of answers, unexpected
// answers and a latency histogram. Memory is bounded whatever the duration:
// past maxBuckets buckets, neighbours are merged and the bucket doubles in
// width, so a run of any length keeps at most maxBuckets histograms.

// The latency histogram is log-linear: histSub bins per power of two from
// 2^histMinExp ns (about 1 µs; faster answers share bin 0) to 2^histMaxExp ns
// (about 69 s; slower ones share the last bin). Eight bins per octave put
// any latency within 1/16 (6 %) of its bin's middle, close enough to draw
// and to show a p99 while running; the summary's exact figures come from
// vegeta's metrics.
const (
	histSubBits = 3
	histSub     = 1 << histSubBits
	histMinExp  = 10
	histMaxExp  = 36
	histBins    = (histMaxExp-histMinExp)*histSub + 2

	// maxBuckets bounds a timeline: 600 one-second buckets hold a 10-minute
	// stream (twice the longest --duration) before any merge; each costs
	// about 850 bytes.
	maxBuckets = 600
)

// latencyHist counts latencies by bin. A uint32 holds any bucket's count:
// streams stop at maxRequestsCap requests, well under 2^32.
type latencyHist [histBins]uint32

// histBin returns the bin of d.
func histBin(d time.Duration) int {
	if d < 1<<histMinExp {
		return 0
	}
	exp := bits.Len64(uint64(d)) - 1 // floor(log2 d) ≥ histMinExp
	if exp >= histMaxExp {
		return histBins - 1
	}
	sub := int(uint64(d)>>(exp-histSubBits)) & (histSub - 1)
	return 1 + (exp-histMinExp)*histSub + sub
}

// histBounds returns the latencies bin b holds: [lo, hi). The last bin has
// no upper bound; hi is then its lower bound doubled, for drawing.
func histBounds(b int) (lo, hi time.Duration) {
	switch {
	case b <= 0:
		return 0, 1 << histMinExp
	case b >= histBins-1:
		return 1 << histMaxExp, 1 << (histMaxExp + 1)
	}
	exp := (b-1)/histSub + histMinExp
	sub := (b - 1) % histSub
	step := time.Duration(1) << (exp - histSubBits)
	return time.Duration(histSub+sub) * step, time.Duration(histSub+sub+1) * step
}

// quantile returns the latency under which a share q of the counted ones
// fall: the upper bound of the bin that reaches it, never above max (the
// largest latency seen). n is the histogram's total.
func (h *latencyHist) quantile(q float64, n uint64, max time.Duration) time.Duration {
	if n == 0 {
		return 0
	}
	rank := uint64(q*float64(n) + 0.5)
	rank = min(max64(rank, 1), n)
	var seen uint64
	for b, c := range h {
		seen += uint64(c)
		if seen >= rank {
			_, hi := histBounds(b)
			return min(hi, max)
		}
	}
	return max
}

func max64(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

// bucket is one slice of a timeline.
type bucket struct {
	count, errs uint32
	max         time.Duration
	hist        latencyHist
}

// timeline records a stream over time. add is called by the one goroutine
// that drains a stream; snapshot and export may be called from others (the
// progress line) at the same time.
type timeline struct {
	mu      sync.Mutex
	start   time.Time
	width   time.Duration
	buckets []*bucket
	all     latencyHist
	n, errs uint64
	max     time.Duration
	last    time.Time // latest send time
}

// newTimeline starts a timeline at start (zero: at the first answer's send time).
func newTimeline(start time.Time) *timeline {
	return &timeline{start: start, width: time.Second}
}

// add records an answer sent at sent that took lat; ok says whether it was
// what the stream expected.
func (t *timeline) add(sent time.Time, lat time.Duration, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.start.IsZero() {
		t.start = sent
	}
	if sent.After(t.last) {
		t.last = sent
	}
	i := 0
	if d := sent.Sub(t.start); d > 0 {
		i = int(d / t.width)
	}
	for i >= maxBuckets {
		t.halve()
		i /= 2
	}
	for len(t.buckets) <= i {
		t.buckets = append(t.buckets, nil)
	}
	b := t.buckets[i]
	if b == nil {
		b = &bucket{}
		t.buckets[i] = b
	}
	bin := histBin(lat)
	b.count++
	b.hist[bin]++
	b.max = max(b.max, lat)
	t.all[bin]++
	t.n++
	t.max = max(t.max, lat)
	if !ok {
		b.errs++
		t.errs++
	}
}

// halve merges neighbouring buckets, doubling their width.
func (t *timeline) halve() {
	out := t.buckets[:0]
	for i := 0; i < len(t.buckets); i += 2 {
		a := t.buckets[i]
		if i+1 < len(t.buckets) {
			a = mergeBuckets(a, t.buckets[i+1])
		}
		out = append(out, a)
	}
	clear(t.buckets[len(out):])
	t.buckets = out
	t.width *= 2
}

func mergeBuckets(a, b *bucket) *bucket {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	a.count += b.count
	a.errs += b.errs
	a.max = max(a.max, b.max)
	for i, c := range b.hist {
		a.hist[i] += c
	}
	return a
}

// liveFigures is what the progress line shows.
type liveFigures struct {
	requests, errs uint64
	p99            time.Duration
}

// snapshot returns the figures so far.
func (t *timeline) snapshot() liveFigures {
	t.mu.Lock()
	defer t.mu.Unlock()
	return liveFigures{requests: t.n, errs: t.errs, p99: t.all.quantile(0.99, t.n, t.max)}
}

// Timeline is a timeline as reports carry it: per-bucket figures and the
// latency histogram of the whole stream.
type Timeline struct {
	BucketSeconds float64 `json:"bucket_seconds"`
	// Seconds is from the start to the last request sent: the last bucket
	// covers only part of its width.
	Seconds   float64         `json:"seconds"`
	Points    []TimelinePoint `json:"points"`
	Histogram []HistogramBin  `json:"histogram"` // bins with answers only, fastest first
}

// TimelinePoint is one bucket: answers sent in [T, T+BucketSeconds) seconds
// after the stream began, how many were not as expected, and their latency
// quantiles (ms; within a bin's width, 6 %).
type TimelinePoint struct {
	T        float64 `json:"t"`
	Requests uint64  `json:"requests"`
	Errors   uint64  `json:"errors"`
	P50      float64 `json:"p50_ms"`
	P90      float64 `json:"p90_ms"`
	P99      float64 `json:"p99_ms"`
	Max      float64 `json:"max_ms"`
}

// HistogramBin counts the answers whose latency was in [LoMS, HiMS).
type HistogramBin struct {
	LoMS  float64 `json:"lo_ms"`
	HiMS  float64 `json:"hi_ms"`
	Count uint64  `json:"count"`
}

// export returns the timeline for a report, or nil when nothing was recorded.
func (t *timeline) export() *Timeline {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n == 0 {
		return nil
	}
	out := &Timeline{BucketSeconds: t.width.Seconds(), Seconds: max(t.last.Sub(t.start), 0).Seconds(),
		Points: make([]TimelinePoint, len(t.buckets))}
	for i, b := range t.buckets {
		p := TimelinePoint{T: float64(i) * out.BucketSeconds}
		if b != nil {
			n := uint64(b.count)
			p.Requests, p.Errors = n, uint64(b.errs)
			p.P50 = ms(b.hist.quantile(0.50, n, b.max))
			p.P90 = ms(b.hist.quantile(0.90, n, b.max))
			p.P99 = ms(b.hist.quantile(0.99, n, b.max))
			p.Max = ms(b.max)
		}
		out.Points[i] = p
	}
	for b, c := range t.all {
		if c > 0 {
			lo, hi := histBounds(b)
			out.Histogram = append(out.Histogram, HistogramBin{LoMS: ms(lo), HiMS: ms(hi), Count: uint64(c)})
		}
	}
	return out
}
