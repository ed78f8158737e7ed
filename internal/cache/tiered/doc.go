// Package tiered composes an in-process L1 (cache/memory) over the shared L2
// (cache/redis) and keeps every replica's L1 within a published staleness
// bound of L2.
//
// The one idea: the bound is guaranteed by TTL, and pub/sub only makes it
// tighter. Every L1 entry lives at most L1MaxTTL (1 s by default) unless its
// kind is declared immutable, so even a replica that never hears an
// invalidation stops serving a deleted entry within the bound. Delete removes
// keys from L2, then publishes them on "<prefix>invalidate", and every replica
// drops them from its L1 as soon as the message arrives, usually within a
// millisecond. When the subscription (re)connects, messages may have been lost
// in between, so the L1 is flushed.
//
// Two smaller guards close the remaining gaps. A read that missed L1 and found
// the old value in L2 just before a Delete must not put it back into L1 after
// the Delete cleared it: every invalidation bumps an epoch, and a fill that
// straddles a bump is undone. And L2 trouble never fails a Get: it counts as
// a miss and the replica keeps serving from L1 and the store, while a Delete
// reports it, since a revocation that did not reach L2 is not done.
package tiered
