// Package metrics holds the Prometheus collectors every cache tier shares, and
// pre-resolves the per-kind counters so that the hot path is one map read and
// one atomic add, with no label hashing.
package metrics
