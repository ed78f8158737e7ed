package main

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

func TestHistBinsCoverEveryLatency(t *testing.T) {
	// Every latency falls within the bounds of its bin, bins are in order,
	// and a bin is at most 1/8 wider than its lower bound.
	r := rand.New(rand.NewPCG(1, 2))
	check := func(d time.Duration) {
		b := histBin(d)
		lo, hi := histBounds(b)
		if b < 0 || b >= histBins || d < lo || (b < histBins-1 && d >= hi) {
			t.Fatalf("%v in bin %d [%v, %v)", d, b, lo, hi)
		}
		if b > 0 && b < histBins-1 && float64(hi-lo) > float64(lo)/histSub+1 {
			t.Fatalf("bin %d [%v, %v) is too wide", b, lo, hi)
		}
	}
	for _, d := range []time.Duration{0, 1, 1023, 1024, 1025, 2047, 2048, time.Millisecond, time.Second, 1<<36 - 1, 1 << 36, time.Hour} {
		check(d)
	}
	for range 100_000 {
		check(time.Duration(r.Int64N(int64(2 * time.Minute))))
	}
	for b := 1; b < histBins; b++ {
		_, prevHi := histBounds(b - 1)
		lo, _ := histBounds(b)
		if lo != prevHi {
			t.Fatalf("bin %d starts at %v; bin %d ends at %v", b, lo, b-1, prevHi)
		}
	}
}

func TestHistQuantile(t *testing.T) {
	tests := []struct {
		name string
		lats []time.Duration
		q    float64
		want time.Duration
		tol  float64 // relative
	}{
		{"empty", nil, 0.99, 0, 0},
		{"one", []time.Duration{5 * time.Millisecond}, 0.99, 5 * time.Millisecond, 0},
		{"p50 of 1..100ms", ramp(100, time.Millisecond), 0.50, 50 * time.Millisecond, 0.07},
		{"p99 of 1..100ms", ramp(100, time.Millisecond), 0.99, 99 * time.Millisecond, 0.07},
		{"max bounds the answer", ramp(10, time.Millisecond), 1, 10 * time.Millisecond, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h latencyHist
			var mx time.Duration
			for _, d := range tc.lats {
				h[histBin(d)]++
				mx = max(mx, d)
			}
			got := h.quantile(tc.q, uint64(len(tc.lats)), mx)
			if diff := float64(got - tc.want); diff > tc.tol*float64(tc.want) || -diff > tc.tol*float64(tc.want) {
				t.Fatalf("quantile(%v) = %v; want %v within %.0f%%", tc.q, got, tc.want, 100*tc.tol)
			}
		})
	}
}

func ramp(n int, step time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(i+1) * step
	}
	return out
}

func TestTimelineBuckets(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tl := newTimeline(t0)
	// Second 0: 10 answers of 1ms, 2 unexpected; second 2: 5 of 10ms; second 1 empty.
	for i := range 10 {
		tl.add(t0.Add(time.Duration(i)*50*time.Millisecond), time.Millisecond, i >= 2)
	}
	for i := range 5 {
		tl.add(t0.Add(2*time.Second+time.Duration(i)*100*time.Millisecond), 10*time.Millisecond, true)
	}
	out := tl.export()
	if out.BucketSeconds != 1 || len(out.Points) != 3 {
		t.Fatalf("bucket %vs, %d points; want 1s, 3", out.BucketSeconds, len(out.Points))
	}
	p := out.Points
	if p[0].Requests != 10 || p[0].Errors != 2 || p[1].Requests != 0 || p[2].Requests != 5 || p[2].T != 2 {
		t.Errorf("points %+v", p)
	}
	if p[2].P99 != 10 || p[0].Max != 1 {
		t.Errorf("p99 %v max %v; want 10, 1 (capped by the largest seen)", p[2].P99, p[0].Max)
	}
	if out.Seconds != 2.4 {
		t.Errorf("seconds %v; want 2.4 (the last send)", out.Seconds)
	}
	var n uint64
	for _, b := range out.Histogram {
		n += b.Count
	}
	if n != 15 || len(out.Histogram) != 2 {
		t.Errorf("histogram %+v; want two bins, 15 answers", out.Histogram)
	}
	if f := tl.snapshot(); f.requests != 15 || f.errs != 2 {
		t.Errorf("snapshot %+v", f)
	}
}

func TestTimelineMemoryIsBounded(t *testing.T) {
	// Ten hours of one answer a second: the buckets merge, never more than
	// maxBuckets, and nothing is lost.
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tl := newTimeline(t0)
	const n = 10 * 3600
	for i := range n {
		tl.add(t0.Add(time.Duration(i)*time.Second), time.Millisecond, i%10 != 0)
	}
	if len(tl.buckets) > maxBuckets {
		t.Fatalf("%d buckets; want at most %d", len(tl.buckets), maxBuckets)
	}
	out := tl.export()
	var req, errs uint64
	for _, p := range out.Points {
		req += p.Requests
		errs += p.Errors
	}
	if req != n || errs != n/10 {
		t.Fatalf("%d answers, %d unexpected; want %d, %d", req, errs, n, n/10)
	}
	if out.BucketSeconds < float64(n)/maxBuckets {
		t.Fatalf("bucket of %vs cannot hold %ds in %d buckets", out.BucketSeconds, n, maxBuckets)
	}
}

// TestTimelineConcurrentReaders proves the claim that the progress line may
// read a timeline while its stream adds to it (run with -race).
func TestTimelineConcurrentReaders(t *testing.T) {
	tl := newTimeline(time.Now())
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					_ = tl.snapshot()
					_ = tl.export()
				}
			}
		}()
	}
	start := time.Now()
	for i := range 20_000 {
		tl.add(start.Add(time.Duration(i)*time.Millisecond), time.Duration(i)*time.Microsecond, true)
	}
	close(stop)
	wg.Wait()
	if f := tl.snapshot(); f.requests != 20_000 {
		t.Fatalf("%d requests; want 20000", f.requests)
	}
}
