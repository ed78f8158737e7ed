// Package janitor deletes expired rows (access tokens, revocations, codes,
// refresh tokens, sessions, retired signing keys) so the token tables stop
// growing without bound.
//
// The one idea: cleanup runs in bounded batches with a pause between them.
// One DELETE of millions of rows would hold locks (SQLite's single writer, or
// PostgreSQL row locks and a long transaction) long enough to stall the token
// endpoint; many small deletes interleave with request traffic instead.
package janitor
