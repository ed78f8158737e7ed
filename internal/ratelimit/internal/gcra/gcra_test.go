package gcra_test

import (
	"testing"
	"time"

	"github.com/authd/authd/internal/ratelimit"
	"github.com/authd/authd/internal/ratelimit/internal/gcra"
)

// FuzzStep checks the algebra every backend relies on, for any state and
// limit: what is charged fits the burst, Remaining is what a run of cost-1
// calls would get, and RetryAfter is exact (allowed at it, denied 1 µs
// before).
func FuzzStep(f *testing.F) {
	f.Add(int64(0), int64(0), 1.0, 5, 1)
	f.Add(int64(3e9), int64(1e9), 1.0, 5, 2)
	f.Add(int64(5e9), int64(0), 10.0, 50, 0)
	f.Add(int64(0), int64(0), 1.0/3, 3, 4)
	f.Fuzz(func(t *testing.T, tat, now int64, rate float64, burst, cost int) {
		limit := ratelimit.Limit{Rate: rate, Burst: burst}
		// Times within a few centuries of the epoch, like real ones.
		if ratelimit.CheckArgs("k", limit, cost) != nil || cost > 1000 || burst > 1000 ||
			now < 0 || now > 1e19/2 || tat < 0 || tat > now+int64(limit.Window()) {
			t.Skip()
		}
		interval := int64(limit.Interval())
		next, charged, d := gcra.Step(tat, now, limit, cost)

		if charged != (d.Allowed && cost > 0) {
			t.Fatalf("charged %v with %+v and cost %d", charged, d, cost)
		}
		if !charged && next != max(tat, now) {
			t.Fatalf("nothing charged, but the TAT moved from %d to %d", max(tat, now), next)
		}
		if charged && (next-max(tat, now) != int64(cost)*interval || next-now > int64(limit.Window())) {
			t.Fatalf("charged TAT %d from %d at %d: not cost×interval, or past the burst", next, tat, now)
		}
		if d.ResetAfter != time.Duration(next-now) {
			t.Fatalf("ResetAfter %v, want TAT - now = %v", d.ResetAfter, time.Duration(next-now))
		}
		// Remaining events of cost 1 are allowed now, and no more.
		s := next
		for i := range d.Remaining {
			var ok bool
			if s, ok, _ = gcra.Step(s, now, limit, 1); !ok {
				t.Fatalf("Remaining %d, but event %d was denied", d.Remaining, i+1)
			}
		}
		if _, ok, _ := gcra.Step(s, now, limit, 1); ok {
			t.Fatalf("Remaining %d, but one more event was allowed", d.Remaining)
		}
		switch {
		case d.Allowed:
			if d.RetryAfter != 0 {
				t.Fatalf("allowed with RetryAfter %v", d.RetryAfter)
			}
		case cost > burst:
			if d.RetryAfter >= 0 {
				t.Fatalf("cost %d above burst %d: RetryAfter %v, want negative", cost, burst, d.RetryAfter)
			}
		default:
			ra := int64(d.RetryAfter)
			if ra <= 0 {
				t.Fatalf("denied with RetryAfter %v", d.RetryAfter)
			}
			if _, _, d2 := gcra.Step(tat, now+ra, limit, cost); !d2.Allowed {
				t.Fatalf("denied at RetryAfter %v: %+v", d.RetryAfter, d2)
			}
			if _, _, d2 := gcra.Step(tat, now+ra-1, limit, cost); d2.Allowed {
				t.Fatalf("allowed before RetryAfter %v", d.RetryAfter)
			}
		}
	})
}
