// Package redis is the replay.Cache shared by replicas: one Redis key per
// record, written with SET NX PX (through rueidis, auto-pipelined), so that a
// proof replayed against several replicas at once is accepted by one.
//
// The one idea: the first use is the one SET NX that succeeds. Redis runs
// commands one at a time, so of any number of racing uses exactly one
// creates the key; the others find it and change nothing (NX writes nothing,
// so a replay never extends a record). The key's lifetime is PX, the time
// from now to until on the replica's clock, rounded up to the millisecond:
// Redis's own clock never enters, so a Redis whose clock is wrong cannot end
// records early. Replicas' clocks should agree (they also judge a proof's
// iat by them); callers add a margin for what they may disagree by.
//
// Like the other Redis backends, and through the same package redisconn,
// each call has a deadline (default 50 ms), a circuit breaker stops calling a
// Redis that keeps failing, and the first connection is made lazily, so
// authd starts while Redis is down. Every failure wraps ErrUnavailable (and
// so replay.ErrUnavailable), error replies included: a Redis that answers
// OOM cannot record a use. There is no local fallback; callers refuse.
package redis
