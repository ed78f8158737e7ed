// Package redis is the distributed ratelimit.Limiter: the GCRA of package
// ratelimit as one Lua script in Redis (through rueidis, EVALSHA,
// auto-pipelined), so that every replica charges the same buckets.
//
// The one idea: the script reads and writes a key's TAT atomically and takes
// the time from Redis (TIME), never from the replica, so replicas whose clocks
// disagree still agree on every decision, and a decision is one round trip.
// Each key is written with a TTL equal to the time until its bucket is full
// again (PEXPIRE semantics through SET PX), after which it holds nothing, so
// keys never accumulate; looks (cost 0) and denials write nothing.
//
// Like the Redis cache tier, and through the same package redisconn, the
// limiter treats Redis as something that fails: each call has a deadline
// (default 50 ms), a circuit breaker stops calling a Redis that keeps failing
// and lets one probe through after OpenFor, and the first connection is made
// lazily under the breaker, so authd starts while Redis is down. Errors wrap
// ErrUnavailable, error replies included (a Redis that answers OOM cannot
// decide); ratelimit/fallback turns them into local decisions.
//
// Time is kept in microseconds (Redis's TIME resolution; Lua numbers are
// doubles, exact to 2^53 µs). The script needs Redis 5 or later, whose scripts
// replicate their effects, so TIME may precede a write.
package redis
