// Package gcra is the generic cell rate algorithm as one pure function, the
// arithmetic every limiter shares (the Redis limiter runs the same steps in
// Lua, in microseconds).
package gcra

import (
	"time"

	"github.com/authd/authd/internal/ratelimit"
)

// Step decides an Allow at time now (nanoseconds on any fixed scale) for a key
// whose stored theoretical arrival time is tat (anything ≤ now when the key
// holds nothing). It returns the TAT to store and whether it changed, which
// is only when events were charged. The arguments must have passed
// ratelimit.CheckArgs.
func Step(tat, now int64, limit ratelimit.Limit, cost int) (newTAT int64, charged bool, d ratelimit.Decision) {
	interval := int64(limit.Interval())
	tolerance := int64(limit.Burst) * interval
	if tat < now {
		tat = now // a bucket does not fill past full
	}
	remaining := func(t int64) int { return remaining(t, now, interval, tolerance) }
	if cost > limit.Burst {
		return tat, false, ratelimit.Decision{Remaining: remaining(tat), RetryAfter: -1, ResetAfter: time.Duration(tat - now)}
	}
	next := tat + int64(max(cost, 1))*interval
	if next-now > tolerance {
		return tat, false, ratelimit.Decision{
			Remaining:  remaining(tat),
			RetryAfter: time.Duration(next - tolerance - now),
			ResetAfter: time.Duration(tat - now),
		}
	}
	if cost == 0 {
		return tat, false, ratelimit.Decision{Allowed: true, Remaining: remaining(tat), ResetAfter: time.Duration(tat - now)}
	}
	return next, true, ratelimit.Decision{Allowed: true, Remaining: remaining(next), ResetAfter: time.Duration(next - now)}
}

// remaining is how many intervals of budget are left at now when the TAT is
// tat; clamped because a key used under a larger limit before may be deeper
// in debt than this limit's burst.
func remaining(tat, now, interval, tolerance int64) int {
	return int(max(tolerance-(tat-now), 0) / interval)
}
