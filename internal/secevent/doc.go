// Package secevent records security events (tokens issued and revoked, failed
// client authentication and logins, reuse of codes and refresh tokens, rate
// limits hit, admin changes) in the audit trail.
//
// The one idea: recording an event must never slow or fail the request that
// caused it. Emit puts the event on a bounded queue and returns at once; when
// the queue is full, as it is when the store is slow or down, the event is
// dropped and counted instead of making the request wait. A single Pipeline
// goroutine writes the queue in batches, retries a batch for as long as
// Options.RetryFor while the store's failure may pass (a connection cut, a
// failover), and on a graceful shutdown drains it, so nothing queued is lost
// to a blip or a restart.
//
// # Refusals are counted, not written one by one
//
// Some events are refusals anyone can cause as fast as they can send
// requests: ratelimit.exceeded, client.auth_failed, login.failed,
// token.enumeration, admin.auth_failed and login.locked_out. Written a row
// each, a ten-second flood would cost a hundred thousand rows kept for the
// retention period, and crowd every other event out of the queue. So they
// are aggregated per window (Options.Window, a minute by default, aligned to
// the clock) and per key: type, source (the IPv4 address, or the IPv6 /64),
// client_id, subject and Detail "limit", which is what an auditor needs to
// tell one attack, and its target, from another.
//
// The first refusal of a key in a window is written at once, as it came, so
// a single failed login is in the trail within a flush and not a window
// later. The others are counted, and at the end of the window (or on Close)
// become one aggregate row: the first one's fields and Detail, Detail
// "count" (how many it stands for), "window_start" and "window_end"
// (RFC 3339, UTC), and the time of the last of them. Summing "count" (1 for
// a row without it) over the rows gives the number of events, exactly.
//
// A window holds at most Options.MaxKeys keys. Refusals with a new key beyond
// that are counted per type in one overflow row, with ip "other" and Detail
// "overflow": "true", so a botnet of a million addresses still costs at most
// 2*MaxKeys+6 rows a window, and bounded memory.
//
// # Token events are volume, not a trail
//
// token.issued and token.introspected come one per token issued and one per
// introspection: the hot paths' own rate. Written a row each they would put a
// durable write, on the one writer, behind every token, and crowd the
// security-relevant events out of the queue. Options.TokenEvents chooses:
// "aggregate" (the default) counts them per type, client_id and Detail
// "grant_type" and window, and writes one row per key at the window's end,
// with Detail "count", "window_start" and "window_end" and no subject or
// address (those are a client's volume, not evidence); "sample" writes one in
// Options.SampleEvery as a row of its own, marked Detail "sampled": "1/N";
// "off" writes none. Whatever is not written alone is counted
// (TokenEventsAggregated, SampledOut, Off), and ByType counts every one.
// Every other event (failures, lockouts, reuse, admin changes,
// registrations) is unaffected.
//
// # Operators hear of what matters
//
// With Options.Logger set, notable events are also logged at WARN, with
// their type, ip, client_id, subject and (redacted) Detail: a limit or
// lockout refusing a key for the first time in a window, the admin API
// refusing a caller for the first time in a window, every refresh.reused and
// code.reused, and the key cap being reached. At most Options.MaxWarnings
// such lines are logged a window; the window's end logs how many were held
// back.
package secevent
