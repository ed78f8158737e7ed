package cache

import (
	"context"
	"strings"
	"time"
)

// Cache is a byte cache with a TTL per entry.
//
// Keys are short strings: a kind prefix such as "intro:" then a hash or id.
//
// Slices returned by Get (and MGet) are shared with the cache and with other
// callers: they must not be mutated. Implementations do not keep the slice passed
// to Set, so the caller may reuse it once Set returns.
//
// Implementations are safe for concurrent use.
type Cache interface {
	// Get returns the value stored under key. A miss is (nil, false, nil); an
	// empty value that is present is (non-nil empty slice, true, nil).
	Get(ctx context.Context, key string) ([]byte, bool, error)
	// Set stores value under key for ttl. A ttl <= 0 stores nothing and leaves
	// any existing entry as it is: a caller that computes the TTL from an
	// expiry that has already passed simply does not cache.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Delete removes keys; absent keys are not an error.
	Delete(ctx context.Context, keys ...string) error
}

// MultiGetter is implemented by tiers that fetch many keys in one round trip
// (batch introspection asks for up to 100 at once).
type MultiGetter interface {
	// MGet returns one slot per key, in order: nil for a miss, the value
	// (non-nil, possibly empty) for a hit. The slices must not be mutated.
	MGet(ctx context.Context, keys []string) ([][]byte, error)
}

// GetMany fetches keys with c's MGet when it has one, and with one Get per key
// otherwise. The result has MultiGetter's shape.
func GetMany(ctx context.Context, c Cache, keys []string) ([][]byte, error) {
	if m, ok := c.(MultiGetter); ok {
		return m.MGet(ctx, keys)
	}
	out := make([][]byte, len(keys))
	for i, k := range keys {
		v, ok, err := c.Get(ctx, k)
		if err != nil {
			return nil, err
		}
		if ok {
			out[i] = nonNil(v)
		}
	}
	return out, nil
}

// Kind returns the kind of a key: the text before its first ':', or "" when the
// key has none.
func Kind(key string) string {
	kind, _, ok := strings.Cut(key, ":")
	if !ok {
		return ""
	}
	return kind
}

// nonNil keeps a present empty value distinguishable from a miss in MGet's shape.
func nonNil(v []byte) []byte {
	if v == nil {
		return []byte{}
	}
	return v
}

// None is a Cache that holds nothing: every Get misses, Set and Delete do
// nothing. Callers without a cache take it instead of nil, so they have one
// code path.
type None struct{}

var (
	_ Cache       = None{}
	_ MultiGetter = None{}
)

// Get always misses.
func (None) Get(context.Context, string) ([]byte, bool, error) { return nil, false, nil }

// Set stores nothing.
func (None) Set(context.Context, string, []byte, time.Duration) error { return nil }

// Delete has nothing to delete.
func (None) Delete(context.Context, ...string) error { return nil }

// MGet misses every key.
func (None) MGet(_ context.Context, keys []string) ([][]byte, error) {
	return make([][]byte, len(keys)), nil
}
