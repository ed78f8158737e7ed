package defense

import (
	"context"
	"sync"
	"time"

	"github.com/authd/authd/internal/ratelimit"
)

// maxLocalLooks bounds the keys LocalLooks remembers; past it, the expired
// ones go, and if that is not enough, all of them (looks then allow until
// the next denied charge, which the shared limiter still refuses).
const maxLocalLooks = 100_000

// LocalLooks answers the request limits' looks (cost 0: "is this address,
// this caller, over its budget?") in process, from the last charge the
// shared limiter denied for the key, and sends only charges to lim. Before
// every request a look at a shared limiter (Redis) is a round trip; the
// charges are the ones that come from unauthenticated requests and inactive
// introspection answers, a small part of a busy deployment's traffic.
//
// The bound is the limiter's, to within one request per replica: a key
// becomes refused here when a charge from this process finds its budget
// empty, until one event fits again, so each replica answers at most one
// request past the shared budget before refusing the key. Not for login attempts, where
// the look before hashing must be exact (NewLoginGuard takes lim itself).
func LocalLooks(lim Limiter, now func() time.Time) Limiter {
	if now == nil {
		now = time.Now
	}
	return &localLooks{lim: lim, now: now, until: map[string]time.Time{}}
}

type localLooks struct {
	lim Limiter
	now func() time.Time

	mu    sync.Mutex
	until map[string]time.Time // refused until
}

func (l *localLooks) Allow(ctx context.Context, key string, limit ratelimit.Limit, cost int) (ratelimit.Decision, error) {
	if cost == 0 {
		now := l.now()
		l.mu.Lock()
		t, ok := l.until[key]
		if ok && !now.Before(t) {
			delete(l.until, key)
			ok = false
		}
		l.mu.Unlock()
		if ok {
			return ratelimit.Decision{RetryAfter: t.Sub(now)}, nil
		}
		return ratelimit.Decision{Allowed: true, Remaining: limit.Burst}, nil
	}
	d, err := l.lim.Allow(ctx, key, limit, cost)
	if err != nil {
		return d, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if d.Remaining > 0 || limit.Rate <= 0 {
		// Budget left (a charge larger than it may still be refused): a
		// look allows.
		delete(l.until, key)
		return d, nil
	}
	// Empty: a look would be refused until one event fits again, which is
	// one emission interval at most (and RetryAfter, if this charge of one
	// was refused, says exactly when).
	wait := time.Duration(float64(time.Second) / limit.Rate)
	if !d.Allowed && d.RetryAfter > 0 && d.RetryAfter < wait {
		wait = d.RetryAfter
	}
	if len(l.until) >= maxLocalLooks {
		l.forget()
	}
	l.until[key] = l.now().Add(wait)
	return d, nil
}

// forget drops the expired keys, or all of them when none has expired.
func (l *localLooks) forget() {
	now := l.now()
	for k, t := range l.until {
		if !now.Before(t) {
			delete(l.until, k)
		}
	}
	if len(l.until) >= maxLocalLooks {
		clear(l.until)
	}
}

func (l *localLooks) Reset(ctx context.Context, key string) error {
	l.mu.Lock()
	delete(l.until, key)
	l.mu.Unlock()
	return l.lim.Reset(ctx, key)
}
