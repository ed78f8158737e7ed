// Package secevent records security events (tokens issued and revoked, failed
// client authentication and logins, reuse of codes and refresh tokens, rate
// limits hit, admin changes) in the audit trail.
//
// The one idea: recording an event must never slow or fail the request that
// caused it. Emit puts the event on a bounded queue and returns at once; when
// the queue is full, as it is when the store is slow or down or an attack
// floods us with failures, the event is dropped and counted instead of making
// the request wait. A single Pipeline goroutine writes the queue in batches,
// retries a batch for as long as Options.RetryFor while the store's failure
// may pass (a connection cut, a failover), and on a graceful shutdown drains
// it, so nothing queued is lost to a blip or a restart.
package secevent
