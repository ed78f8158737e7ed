// Package redistest is test support for code that uses Redis. It connects
// tests to the test Redis named by AUTHD_TEST_REDIS_URL (through testenv,
// which skips or fails when it is unset), gives each test its own key prefix
// and deletes every key under it when the test ends; its Proxy breaks the
// link to that Redis on cue; RunFaults is the suite of outages every
// Redis-backed component built on package redisconn passes.
//
// The server is shared: nothing here touches a key outside a test's prefix,
// or the server's configuration. Faults are made in the Proxy, between the
// client and the server, never in the server itself.
package redistest
