package main

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authd/authd/internal/cache"
	"github.com/authd/authd/internal/cache/invalidator"
	"github.com/authd/authd/internal/cache/memory"
	"github.com/authd/authd/internal/cache/redis"
	"github.com/authd/authd/internal/cache/tiered"
	"github.com/authd/authd/internal/config"
	"github.com/authd/authd/internal/token"
)

// cacheTiers is the cache a replica reads through, and the Redis tier when
// there is one (for health, and for telling other replicas about key rotations).
type cacheTiers struct {
	cache  cache.Cache
	redis  *redis.Cache
	closer []func()
}

func (c *cacheTiers) Close() {
	for i := len(c.closer) - 1; i >= 0; i-- {
		c.closer[i]()
	}
}

// buildCache makes the in-process cache, or with AUTHD_REDIS_URL the tiered
// L1-over-Redis cache whose L1 answers no longer than AUTHD_CACHE_STALENESS
// after a change elsewhere.
//
// With Redis, deletions that could not reach it are recorded in outbox, and
// the tiered cache applies the outbox before it trusts Redis after a failure.
func buildCache(ctx context.Context, cfg *config.Config, reg prometheus.Registerer, outbox invalidator.Outbox, encKey []byte) (*cacheTiers, error) {
	if cfg.RedisURL == "" {
		m := memory.New(memory.Options{MaxBytes: cfg.CacheMaxBytes, Registerer: reg, Tier: "memory"})
		return &cacheTiers{cache: m, closer: []func(){m.Close}}, nil
	}
	l2, err := redis.New(ctx, redis.Options{URL: cfg.RedisURL, Prefix: cfg.RedisPrefix, EncryptionKey: encKey, Registerer: reg})
	if err != nil {
		return nil, err
	}
	l1 := memory.New(memory.Options{MaxBytes: cfg.CacheMaxBytes, Registerer: reg, Tier: "l1"})
	t, err := tiered.New(tiered.Options{
		L1:       l1,
		L2:       l2,
		L1MaxTTL: cfg.CacheStaleness,
		// A verified JWT stays verified until it expires; its revocation is a
		// separate, short-lived entry.
		ImmutableKinds: []string{"jwt"},
		Registerer:     reg,
		Outbox:         outbox,
		OutboxKeep:     token.RedeleteAfter,
	})
	if err != nil {
		l1.Close()
		l2.Close()
		return nil, err
	}
	return &cacheTiers{cache: t, redis: l2, closer: []func(){l2.Close, l1.Close, t.Close}}, nil
}

// userCache tells the caches that a user changed; the account service is
// built before the token service that reads users through them.
type userCache struct{ inval *invalidator.Invalidator }

func (u userCache) InvalidateUser(ctx context.Context, id string) error {
	return u.inval.Invalidate(ctx, token.UserCacheKey(id))
}
