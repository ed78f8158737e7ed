// Package redisconn is the connection to Redis that authd's Redis backends
// (cache/redis, ratelimit/redis) share: a rueidis client dialled lazily, every
// call under a deadline and behind a circuit breaker, and Healthy, Ping and
// Close for readiness reports and shutdown.
//
// The one idea: Redis is something that fails, and authd must not wait on it.
// Each call fails within its deadline; after a few consecutive failures the
// breaker opens and calls fail at once, without a timer or a network round
// trip, until OpenFor has passed and one probe call may try Redis again, so
// the connection recovers by itself. Even the first connection is made under
// that rule: New waits for it only as long as its caller allows, and a
// replica that starts while Redis is down picks Redis up when it comes back.
//
// What a failure means is the backend's to say: every error a Conn returns
// wraps the sentinel the backend passes in (its own ErrUnavailable), except
// a caller that gave up, which is the caller's context error, and a Redis
// error reply, which proves Redis is up and is returned as it came.
package redisconn
