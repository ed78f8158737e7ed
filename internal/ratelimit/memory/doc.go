// Package memory is the in-process ratelimit.Limiter: one GCRA theoretical
// arrival time per key, in a bounded otter cache. It is the limiter of the
// embedded deployment and the local half of ratelimit/fallback.
//
// The one idea: a key costs memory only while its bucket is not full. Once
// the bucket is full again (its TAT has passed) forgetting the key changes no
// decision, so each entry expires then: not exactly at its TAT, which moves
// on every charge, but at a deadline each read of the key pushes to
// max(TAT, now) + Window + 2 s. The charge that follows the read adds at most
// one Window to the TAT, so the deadline always stays past it without a
// write to otter on the hot path. An idle key
// is thus dropped at most one Window (and 2 s) after its bucket is full. A
// flood of distinct keys (one request per spoofed client id, say) holds each
// key for about two refill windows at most, and the size bound caps even that.
// Looks (cost 0) and denials of unknown keys store nothing.
//
// At the bound the cache evicts, and an evicted key's history is forgotten:
// its next call sees a full bucket. Eviction therefore errs toward allowing.
// otter's admission policy (W-TinyLFU) keeps frequently used keys over keys
// seen once, so an attacker's hot key outlives a spray of cold ones. Size
// MaxKeys above the number of keys that are mid-window at once in normal
// operation; authd_ratelimit_evictions_total counts every history lost.
//
// Concurrency: a key's TAT is an atomic integer, changed by compare-and-swap
// (a call that loses the race decides again on the new TAT), so decisions on
// one key are serialised without any lock of ours; otter's map is read
// without locks, and written (under a lock striped by hash bucket) only when
// a key is created. A decision on a held key allocates nothing.
package memory
