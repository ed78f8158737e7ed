// Package redis is the shared cache tier: values in Redis (through rueidis,
// auto-pipelined), sealed with AES-256-GCM when a key is configured, every call
// under a deadline and behind a circuit breaker.
//
// The one idea: Redis is an accelerator, never a dependency. When it is slow or
// gone, a call fails within its deadline, and after a few failures the breaker
// opens so that calls fail at once with ErrUnavailable instead of each waiting
// out the deadline; callers (cache/tiered) then serve from L1 and the store. The
// breaker lets one probe through after OpenFor, so the tier recovers by itself.
// Even the first connection is made lazily under the breaker: a replica starts
// while Redis is down and picks it up when it comes back. That machinery is
// package redisconn, shared with ratelimit/redis; this package adds the keys,
// the sealing, its metrics and authd_cache_redis_up.
//
// Each stored value carries its absolute expiry, so a reader learns the
// remaining TTL without a second command (the tiered cache bounds its L1 copy
// by it). With an encryption key the expiry is sealed along with the value and
// the full Redis key is the additional data: a value copied or moved to another
// key does not open (ErrCorrupt), so someone who can write to Redis cannot make
// one token's cached introspection answer for another.
package redis
