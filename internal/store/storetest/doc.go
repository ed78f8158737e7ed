// Package storetest is the conformance suite every store backend passes.
//
// A backend's test calls Run with a function that opens a fresh, migrated, empty
// store; every case gets its own store, so cases run in parallel and never see each
// other's rows. The suite asserts the contract in package store exactly: sentinel
// errors, round-trips of every field (times at microsecond precision in UTC),
// ordering, expiry purging, and the atomicity claims (code redemption and refresh
// rotation under concurrency, all-or-none batches). Bench measures the hot paths
// the same way for every backend.
package storetest
