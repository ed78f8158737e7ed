// Package replay is the replay-cache contract: Cache records that a key (a
// DPoP proof's jti, a client assertion's jti) was used, until a given time,
// and reports whether a use is the first. Backends: memory (in-process, the
// embedded deployment) and redis (shared by replicas). Both pass replaytest.
//
// The one idea: "first use" is decided by one atomic write, never by a read
// followed by a write. Of N concurrent Use calls with one key exactly one is
// told first=true, so a proof replayed in parallel against any number of
// replicas is accepted once. A record need not outlive until: callers pass
// the last instant at which the thing it guards would still be accepted, and
// past that instant its own expiry refuses it.
//
// Every failure is the caller's to decide, and the safe decision is to refuse
// the use: an error (ErrUnavailable) means the backend cannot say whether the
// key was seen, and accepting anyway would reopen the replay the cache exists
// to stop. There is therefore no fallback composition, unlike ratelimit: a
// local cache cannot know what another replica has seen.
package replay
