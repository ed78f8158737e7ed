// Package memory is the in-process cache tier: otter v2 with a size bound (in
// bytes or entries) and a TTL per entry.
//
// The one idea: an entry's TTL travels with its value, so otter's expiry
// calculator gives every entry its own lifetime in one write, with no second
// call that a concurrent reader could observe half done. Values are copied on
// Set and shared on Get, so a hit costs no allocation.
//
// Used alone in the embedded deployment, and as L1 under cache/tiered.
package memory
