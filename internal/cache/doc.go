// Package cache is authd's cache contract: a byte cache with a TTL per entry,
// and a read-through Loader that merges concurrent misses for one key.
//
// Tiers implement Cache: memory (in-process, otter), redis (shared by replicas,
// behind a deadline and a circuit breaker) and tiered (memory over redis, kept
// honest across replicas by pub/sub invalidation). Every tier passes the one
// conformance suite in cache/cachetest.
//
// The one idea: a cache holds copies, never the truth. Keys are hashes or ids,
// never raw tokens; a value is the rendered result of a lookup, valid until its
// TTL, and the caller picks a TTL that never outlives what it describes (an
// introspection response never outlives its token). Anything that must be seen
// by every replica at once (a revocation) is a Delete, which every tier
// propagates and reports failure of.
//
// Keys are short strings "kind:id". The kind (the text before the first ':')
// labels metrics and lets the tiered cache treat some kinds as immutable.
package cache
