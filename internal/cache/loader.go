package cache

import (
	"context"
	"time"

	"golang.org/x/sync/singleflight"
)

// LoadFunc produces the value for a key on a miss and how long it may be
// cached. A ttl <= 0 returns the value without caching it (use a short ttl for
// negative results). An error is returned to every waiting caller and is never
// cached.
type LoadFunc func(ctx context.Context) (value []byte, ttl time.Duration, err error)

// Loader reads through a Cache: on a miss it calls the load function once per
// key however many callers miss concurrently, stores the result and hands it to
// all of them. The zero value is not usable; build one with NewLoader.
//
// A Loader is safe for concurrent use.
type Loader struct {
	c     Cache
	group singleflight.Group
}

// NewLoader returns a Loader over c.
func NewLoader(c Cache) *Loader { return &Loader{c: c} }

// Cached returns key's value if the cache holds it, and loads nothing. A hot
// caller asks it first and builds its load function only on a miss, for
// Load: a closure passed to Get is allocated on every call, hit or not.
func (l *Loader) Cached(ctx context.Context, key string) ([]byte, bool) {
	v, ok, err := l.c.Get(ctx, key)
	return v, err == nil && ok
}

// Get returns the cached value of key, or loads, caches and returns it.
//
// Errors of the cache itself never fail Get: a failed read counts as a miss and
// a failed write only means the next caller loads again. Get returns the load
// function's error, or ctx's error when ctx ends first. The load runs detached
// from any one caller's cancellation (context.WithoutCancel), so one caller that
// gives up does not fail the others waiting on the same load; the load function
// must bound its own work, as every store call in authd does.
//
// The returned slice is shared with the cache and other callers: do not mutate it.
func (l *Loader) Get(ctx context.Context, key string, load LoadFunc) ([]byte, error) {
	if v, ok := l.Cached(ctx, key); ok {
		return v, nil
	}
	return l.Load(ctx, key, load)
}

// Load is Get for a caller that has just missed (Cached): it loads without
// reading the cache first, but for the read inside the flight, which catches
// a flight that finished meanwhile.
func (l *Loader) Load(ctx context.Context, key string, load LoadFunc) ([]byte, error) {
	ch := l.group.DoChan(key, func() (any, error) {
		lctx := context.WithoutCancel(ctx)
		// Another flight for this key may have finished between our miss and
		// this flight starting; one more read is cheaper than a load.
		if v, ok, err := l.c.Get(lctx, key); err == nil && ok {
			return v, nil
		}
		v, ttl, err := load(lctx)
		if err != nil {
			return nil, err
		}
		v = nonNil(v)
		if ttl > 0 {
			_ = l.c.Set(lctx, key, v, ttl) // a failed write only costs a later load
		}
		return v, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.([]byte), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
