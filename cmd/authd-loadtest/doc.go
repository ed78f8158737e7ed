// Command authd-loadtest generates load and simulates attacks against a
// running authd, and serves a bare baseline to compare it with.
//
//	authd-loadtest setup      create clients, users and tokens through the admin API; print or save them
//	authd-loadtest run        run scenarios (default: the benchmark set) and print their figures
//	authd-loadtest SCENARIO   run one scenario (authd-loadtest list names them)
//	authd-loadtest baseline   serve the bare baseline (same crypto per request as authd, nothing else)
//	authd-loadtest report     merge run --json files into one table with ratios to the baseline
//
// The one idea: every figure is judged against the same work done bare. The
// baseline (baseline.go) is a bare net/http server that parses, authenticates,
// signs, verifies and hashes per request with the calls authd makes, and has
// no store, cache, middleware or limits. It imports only the standard library
// and go-jose, nothing of authd, and TestBaselineAnswersLikeAuthd runs the real
// authd beside it to prove it answers the same shapes, so each scenario runs
// unchanged against both and authd's throughput is reported as a ratio of the
// baseline's.
//
// Load comes from vegeta as a library: open loop at --rate (requests leave on
// schedule whatever the server does, so there is no coordinated omission), or
// closed loop with --workers in flight when --rate is 0, like wrk -c. Each
// answer is classified by the scenario (an active token, a refused guess, the
// right error for a junk request), so a success ratio means "answered as it
// should", not merely 2xx.
//
// Safety: every URL must name a loopback address, and the dialer refuses any
// other address after resolution, so neither a typo nor a redirect sends
// traffic off the machine. Every stream stops at --duration (at most 5
// minutes) or --max-requests, whichever comes first; the baseline server
// stops by itself after --max-lifetime.
//
// While it runs, a progress line on stderr (only when stderr is a terminal)
// shows each stream's rate, errors and p99 so far, from per-second buckets
// (timeline.go) that also feed the charts of --html, a self-contained page.
// --fail-if turns the figures into an exit status for CI (gate.go); mixed
// and stress send a weighted --mix of the benchmark requests (mix.go),
// stress at a rate stepped up until the server stops keeping up.
//
// Scenarios for features a server lacks (no users endpoint, no password
// grant, no login form) come back with status "unsupported" and what the
// server answered, instead of failing the run.
package main
