// Package memory is the in-process replay.Cache: one record per key in an
// otter cache, each expiring at its own until. It is the replay cache of the
// embedded deployment (one process, so one cache sees every use).
//
// The one idea: a replay cache must never forget a live record, so this one
// never evicts. Most bounded caches make room by evicting (otter's W-TinyLFU
// would pick a record seen once, which every jti is), and a flood of fresh
// keys would then push out a proof that was just used and let it be replayed.
// Here the bound is a count of records: at the bound, expired records are
// dropped first (they guard nothing), and if every record is still live the
// use fails closed with ErrFull, which wraps replay.ErrUnavailable, and the
// caller refuses it. A flood can thus make the cache refuse new proofs until
// its records expire (at most the callers' record lifetime, about a minute
// for DPoP) but can never make it accept a replay.
//
// otter drops expired records with a timer wheel whose finest buckets span
// about a second, so a record keeps its slot for up to about a second after
// its until (it is already absent to Use from until on). Size MaxKeys above
// the records held at once at peak load: uses per second × (record lifetime
// + 1 s).
//
// Concurrency: the first use is otter's SetIfAbsent, atomic under the key's
// bucket lock, so of racing uses exactly one inserts. A replay is a lock-free
// read. The count is reserved before the insert, so racing first uses never
// take the cache past MaxKeys.
package memory
