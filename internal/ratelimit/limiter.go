package ratelimit

import (
	"context"
	"time"
)

// Limiter charges events to keys under a Limit given with each call.
// Implementations are safe for concurrent use, and a key's decisions are
// serialised: N concurrent calls on one key allow exactly what N calls in a
// row would.
//
// A key names one bucket; callers build it from what they limit, with a kind
// first ("ip:192.0.2.1", "client:abc", "acct:alice"). A key should always be
// used with the same Limit: its stored state is only meaningful under the
// limit that produced it (a different one is honoured, but the bucket's
// history is read at the new rate).
type Limiter interface {
	// Allow charges cost events to key under limit when limit allows them
	// now, and reports the decision. A denied call charges nothing.
	//
	// Cost 0 only looks: it never charges, and reports whether one event
	// would be allowed now (Allowed, RetryAfter as for cost 1) and the
	// Remaining budget. A login guard asks so ("is this account locked?")
	// before paying for a password hash, and charges only failures.
	//
	// A cost above limit.Burst is never allowed; its RetryAfter is negative.
	//
	// Errors wrap ErrInvalid for bad arguments (see CheckArgs); any other
	// error means the backend could not decide, and the Decision is zero.
	Allow(ctx context.Context, key string, limit Limit, cost int) (Decision, error)

	// Reset forgets key, whose bucket is full again (a successful login
	// clears the account's failure budget). Resetting an unknown key is not
	// an error.
	Reset(ctx context.Context, key string) error
}

// Decision is the outcome of Allow.
type Decision struct {
	// Allowed reports whether the events were allowed (and charged).
	Allowed bool
	// Remaining is how many events of cost 1 the key may still have now,
	// after this decision.
	Remaining int
	// RetryAfter is, when denied, how long until an event of this cost
	// would be allowed; 0 when allowed; negative when never (the cost
	// exceeds the burst).
	RetryAfter time.Duration
	// ResetAfter is how long until the key's bucket is full again, which is
	// also how long the backend keeps the key.
	ResetAfter time.Duration
}
