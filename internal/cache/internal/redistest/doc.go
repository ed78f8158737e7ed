// Package redistest connects cache tests to the test Redis named by
// AUTHD_TEST_REDIS_URL (through testenv, which skips or fails when it is
// unset) and removes every key a test wrote under its prefix when it ends.
// The server is shared: nothing here touches a key outside the prefix, or the
// server's configuration.
package redistest
