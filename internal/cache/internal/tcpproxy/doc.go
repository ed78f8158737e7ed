// Package tcpproxy is a TCP proxy for tests that need a server to fail on
// cue: go silent, refuse, or drop every connection, then come back. It lets
// the cache tests break the link to a real Redis without touching the shared
// server itself.
package tcpproxy
