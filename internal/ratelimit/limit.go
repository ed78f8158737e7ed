package ratelimit

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// MaxKeyLen bounds a key, in bytes. Keys are stored as given (in memory and
// in Redis), so the bound is what keeps a key built from request input (a
// user name, a client id) from costing unbounded memory. Keys are not hashed:
// they must not hold secrets (a password, a token), since they may be seen by
// whoever can read Redis or a heap dump.
const MaxKeyLen = 256

// MaxRate is the highest Rate a Limit may have: the limiters keep time in
// microseconds, and a faster rate would need an emission interval below one.
const MaxRate = 1e6

// MaxWindow bounds Limit.Window, so that time arithmetic stays exact in every
// backend (Redis's Lua numbers are doubles).
const MaxWindow = 100 * 365 * 24 * time.Hour

// ErrInvalid wraps every error about a call's arguments: an empty or too long
// key, a negative cost, a Limit that Validate rejects. These are programming
// errors (or keys built from unchecked input), never a sign that a backend is
// in trouble, and no limiter falls back on them.
var ErrInvalid = errors.New("ratelimit: invalid argument")

// Limit is a rate with a burst: Burst events may happen at once, and the
// budget refills at Rate events per second up to Burst again. A zero Limit is
// invalid.
type Limit struct {
	Rate  float64 // events per second, > 0 and ≤ MaxRate
	Burst int     // events allowed at once, ≥ 1
}

// PerSecond returns a Limit of n events a second, burst at once.
func PerSecond(n, burst int) Limit { return Limit{Rate: float64(n), Burst: burst} }

// PerMinute returns a Limit of n events a minute, burst at once.
func PerMinute(n, burst int) Limit { return Limit{Rate: float64(n) / 60, Burst: burst} }

// PerHour returns a Limit of n events an hour, burst at once.
func PerHour(n, burst int) Limit { return Limit{Rate: float64(n) / 3600, Burst: burst} }

// Interval is the emission interval 1/Rate: the time one event's worth of
// budget takes to come back. It is rounded to the microsecond, the unit every
// backend keeps time in, so a rate above a few thousand a second is only
// approximately honoured (3000/s becomes one per 333 µs, 0.1 % fast).
// Interval of an invalid Limit is meaningless.
func (l Limit) Interval() time.Duration {
	us := math.Round(1e6 / l.Rate)
	if !(us >= 1) { // also NaN
		us = 1
	}
	if us > float64(MaxWindow/time.Microsecond) {
		us = float64(MaxWindow / time.Microsecond)
	}
	return time.Duration(us) * time.Microsecond
}

// Window is how long an emptied bucket takes to fill again: Burst × Interval.
// It is the w of the RateLimit-Policy field. Window of an invalid Limit is
// meaningless.
func (l Limit) Window() time.Duration {
	return time.Duration(l.Burst) * l.Interval()
}

// Validate returns an error wrapping ErrInvalid unless Rate is in (0,
// MaxRate], Burst is at least 1, and Window is at most MaxWindow.
func (l Limit) Validate() error {
	switch {
	case !(l.Rate > 0 && l.Rate <= MaxRate): // also NaN
		return fmt.Errorf("%w: rate %v is not in (0, %v]", ErrInvalid, l.Rate, MaxRate)
	case l.Burst < 1:
		return fmt.Errorf("%w: burst %d is below 1", ErrInvalid, l.Burst)
	case int64(l.Burst) > int64(MaxWindow/l.Interval()):
		return fmt.Errorf("%w: burst %d at rate %v makes a window over %v", ErrInvalid, l.Burst, l.Rate, MaxWindow)
	}
	return nil
}

// CheckArgs validates the arguments of Allow; every Limiter calls it first,
// so that all backends reject the same calls.
func CheckArgs(key string, limit Limit, cost int) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty key", ErrInvalid)
	case len(key) > MaxKeyLen:
		return fmt.Errorf("%w: key of %d bytes is over %d", ErrInvalid, len(key), MaxKeyLen)
	case cost < 0:
		return fmt.Errorf("%w: negative cost %d", ErrInvalid, cost)
	}
	return limit.Validate()
}

// CheckKey validates the key of Reset.
func CheckKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty key", ErrInvalid)
	case len(key) > MaxKeyLen:
		return fmt.Errorf("%w: key of %d bytes is over %d", ErrInvalid, len(key), MaxKeyLen)
	}
	return nil
}
