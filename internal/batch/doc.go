// Package batch provides group commit: many callers each hand over one row that
// must be durable before they answer, and one transaction commits all the rows
// that queued up meanwhile.
//
// The one idea: a durable commit costs an fsync whether it carries one row or a
// hundred, so under load the rows of concurrent requests share it. Each caller
// still blocks until its own row is committed and gets its own result: a batch
// that fails is retried row by row, so one bad row (a duplicate key) fails only
// its caller, while a backend outage fails the whole batch at once rather than
// hammering a dead server with one retry per row.
//
// Writer is the generic core; AccessTokens puts it in front of a store's
// CreateAccessTokens with the same signature.
package batch
