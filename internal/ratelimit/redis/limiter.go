package redis

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/rueidis"

	"github.com/authd/authd/internal/ratelimit"
)

// Allow implements ratelimit.Limiter with one EVALSHA. Errors wrap
// ratelimit.ErrInvalid (bad arguments, checked before any call),
// ErrUnavailable, or the caller's context error.
func (l *Limiter) Allow(ctx context.Context, key string, limit ratelimit.Limit, cost int) (ratelimit.Decision, error) {
	d, err := l.allow(ctx, key, limit, cost)
	l.m.Observe(d, err)
	return d, err
}

func (l *Limiter) allow(ctx context.Context, key string, limit ratelimit.Limit, cost int) (ratelimit.Decision, error) {
	if err := ratelimit.CheckArgs(key, limit, cost); err != nil {
		return ratelimit.Decision{}, err
	}
	interval := int64(limit.Interval() / time.Microsecond)
	// A cost above the burst is denied by the script without arithmetic;
	// capping it keeps the argument a small number.
	cost = min(cost, limit.Burst+1)
	var r [4]int64
	err := l.do(ctx, "allow", func(ctx context.Context, cl rueidis.Client) error {
		// Built only once the breaker lets the call through: a call while
		// Redis is down costs no allocations for arguments it never sends.
		keys := []string{l.prefix + key}
		args := []string{
			strconv.FormatInt(interval, 10),
			strconv.FormatInt(interval*int64(limit.Burst), 10),
			strconv.Itoa(cost),
			strconv.Itoa(limit.Burst),
		}
		vs, err := gcraScript.Exec(ctx, cl, keys, args).ToArray()
		if err != nil {
			return err
		}
		if len(vs) != len(r) {
			return fmt.Errorf("script returned %d values, want %d", len(vs), len(r))
		}
		for i := range vs {
			if r[i], err = vs[i].AsInt64(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return ratelimit.Decision{}, err
	}
	d := ratelimit.Decision{
		Allowed:    r[0] == 1,
		Remaining:  int(r[1]),
		RetryAfter: time.Duration(r[2]) * time.Microsecond,
		ResetAfter: time.Duration(r[3]) * time.Microsecond,
	}
	if r[2] < 0 {
		d.RetryAfter = -1
	}
	return d, nil
}

// Reset implements ratelimit.Limiter with one DEL. Errors wrap
// ratelimit.ErrInvalid, ErrUnavailable, or the caller's context error.
func (l *Limiter) Reset(ctx context.Context, key string) error {
	if err := ratelimit.CheckKey(key); err != nil {
		return err
	}
	k := l.prefix + key
	return l.do(ctx, "reset", func(ctx context.Context, cl rueidis.Client) error {
		return cl.Do(ctx, cl.B().Del().Key(k).Build()).Error()
	})
}
