package redis

import (
	"context"
	"time"

	"github.com/redis/rueidis"
)

// Get implements cache.Cache. Errors wrap ErrUnavailable (Redis unusable) or
// ErrCorrupt (the stored value does not open).
func (c *Cache) Get(ctx context.Context, key string) ([]byte, bool, error) {
	e, ok, err := c.GetEntry(ctx, key)
	return e.Value, ok, err
}

// GetEntry is Get that also returns when the entry expires in Redis.
func (c *Cache) GetEntry(ctx context.Context, key string) (Entry, bool, error) {
	k := c.prefix + key
	var raw []byte
	err := c.do(ctx, "get", func(ctx context.Context, cl rueidis.Client) error {
		b, err := cl.Do(ctx, cl.B().Get().Key(k).Build()).AsBytes()
		if rueidis.IsRedisNil(err) {
			return nil
		}
		raw = b
		return err
	})
	kind := c.m.Kind(key)
	if err != nil {
		return Entry{}, false, err
	}
	if raw == nil {
		kind.Misses.Inc()
		return Entry{}, false, nil
	}
	e, err := c.decode(k, raw)
	if err != nil {
		c.m.Error()
		kind.Misses.Inc()
		return Entry{}, false, err
	}
	kind.Hits.Inc()
	return e, true, nil
}

// MGet implements cache.MultiGetter with one MGET (one pipelined GET per key
// on a cluster, where keys live in different slots). A value that does not
// open is a miss, counted as an error: one bad entry must not fail a batch.
func (c *Cache) MGet(ctx context.Context, keys []string) ([][]byte, error) {
	es, err := c.MGetEntries(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(es))
	for i := range es {
		out[i] = es[i].Value
	}
	return out, nil
}

// MGetEntries is MGet that also returns each entry's expiry. A miss is an
// Entry with a nil Value.
func (c *Cache) MGetEntries(ctx context.Context, keys []string) ([]Entry, error) {
	out := make([]Entry, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = c.prefix + k
	}
	raws := make([][]byte, len(keys))
	err := c.do(ctx, "mget", func(ctx context.Context, cl rueidis.Client) error {
		if cl.Mode() == rueidis.ClientModeCluster {
			cmds := make(rueidis.Commands, len(full))
			for i, k := range full {
				cmds[i] = cl.B().Get().Key(k).Build()
			}
			for i, r := range cl.DoMulti(ctx, cmds...) {
				b, err := r.AsBytes()
				if rueidis.IsRedisNil(err) {
					continue
				}
				if err != nil {
					return err
				}
				raws[i] = b
			}
			return nil
		}
		msgs, err := cl.Do(ctx, cl.B().Mget().Key(full...).Build()).ToArray()
		if err != nil {
			return err
		}
		for i := range msgs {
			if i >= len(raws) {
				break
			}
			if b, err := msgs[i].AsBytes(); err == nil {
				raws[i] = b
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i, raw := range raws {
		kind := c.m.Kind(keys[i])
		if raw == nil {
			kind.Misses.Inc()
			continue
		}
		e, err := c.decode(full[i], raw)
		if err != nil {
			c.m.Error()
			kind.Misses.Inc()
			continue
		}
		kind.Hits.Inc()
		out[i] = e
	}
	return out, nil
}

// Set implements cache.Cache with SET PX. Errors wrap ErrUnavailable.
func (c *Cache) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return nil
	}
	k := c.prefix + key
	ms := ttlMillis(ttl)
	b := c.encode(k, value, time.Now().UnixMilli()+ms)
	return c.do(ctx, "set", func(ctx context.Context, cl rueidis.Client) error {
		return cl.Do(ctx, cl.B().Set().Key(k).Value(rueidis.BinaryString(b)).PxMilliseconds(ms).Build()).Error()
	})
}

// Delete implements cache.Cache with one DEL of every key (one pipelined DEL
// per key on a cluster). Errors wrap ErrUnavailable: the keys may still be
// in Redis, and a caller revoking something must not report success.
func (c *Cache) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = c.prefix + k
	}
	return c.do(ctx, "del", func(ctx context.Context, cl rueidis.Client) error {
		if cl.Mode() == rueidis.ClientModeCluster {
			cmds := make(rueidis.Commands, len(full))
			for i, k := range full {
				cmds[i] = cl.B().Del().Key(k).Build()
			}
			for _, r := range cl.DoMulti(ctx, cmds...) {
				if err := r.Error(); err != nil {
					return err
				}
			}
			return nil
		}
		return cl.Do(ctx, cl.B().Del().Key(full...).Build()).Error()
	})
}
