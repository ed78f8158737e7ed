// Package ratelimit is the limiter contract: Limit (a rate and a burst),
// Limiter (charge events to a key, or forget it), Decision (allowed or not,
// and when to retry), and the IETF RateLimit header fields for a decision.
//
// The one idea: every limiter is a GCRA (generic cell rate algorithm), which
// keeps one number per key, its theoretical arrival time (TAT): the time at
// which the key's bucket would be full again. An event of cost n is allowed at
// time now when max(TAT, now) + n·T − now ≤ Burst·T, with T = 1/Rate the
// emission interval; allowing it moves TAT to max(TAT, now) + n·T. One number
// per key, no timers, no background refills: a key whose TAT has passed holds
// nothing and may be forgotten, which is what lets the backends expire keys
// (memory) or give them a TTL (redis) and stay bounded.
//
// A Limit travels with each call, so one Limiter serves per-IP, per-client and
// per-account limits at their own rates; the key names the bucket. Backends:
// memory (in-process), redis (shared by replicas) and fallback (redis, or
// memory while redis is unusable). Every backend passes limitertest.
package ratelimit
