// Package clocktest provides the one fake clock of authd's tests: a settable
// time that components read through the `Now func() time.Time` their Options
// accept, so an expiry test moves time instead of waiting for it.
//
// The clock is safe for concurrent use because the components under test read
// it from goroutines of their own (otter's maintenance in the caches and the
// limiter, request handlers, background watchers) while the test advances it.
//
// Where the code under test waits on real timers or tickers, use
// testing/synctest instead: its bubble fakes those too.
package clocktest
