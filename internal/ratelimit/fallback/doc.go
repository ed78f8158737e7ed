// Package fallback composes a shared limiter (Redis) with an in-process one:
// it asks the shared limiter, and when that cannot decide (Redis is down or
// slow, or its circuit breaker is open) it decides with the local limiter
// instead.
//
// The one idea: a rate limit must neither fail open nor take authd down with
// Redis. While Redis is unusable, limits still hold, but per replica: N
// replicas together allow up to N times a limit, and each replica's local
// buckets start full. That is the documented price of staying up, and it is
// never silent: every call the local limiter answers counts in
// authd_ratelimit_fallback_total (and the first one after a healthy spell is
// logged). Recovery needs nothing from outside: the Redis limiter's breaker
// lets a probe through after its OpenFor, and the first call that Redis
// answers again puts it back in charge, with the buckets it held before the
// outage.
//
// Errors about arguments (ratelimit.ErrInvalid) and calls whose caller has
// gone are returned as they are: they say nothing about Redis.
package fallback
