// Package cachetest is the conformance suite every cache tier passes:
// memory and tiered always, redis and tiered whenever a test Redis is
// configured. Run it from a tier's tests with a constructor for a fresh, empty
// cache.
//
// The one idea: the contract in package cache is what callers rely on, so it is
// checked once, here, against every tier, instead of once per tier in slightly
// different words. Time-based cases use short TTLs and poll for the outcome
// rather than sleeping an exact amount, so they neither flake on a slow CI
// machine nor wait longer than needed.
package cachetest
