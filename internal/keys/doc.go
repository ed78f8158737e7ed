// Package keys manages authd's cryptographic keys: JWS signing keys (generation,
// rotation, publication as a JWKS, signing and verification) and the at-rest
// envelope (AES-256-GCM under the master key) that protects them in the store.
//
// The one idea: the store is the source of truth shared by every replica, and each
// replica holds an immutable snapshot of the live keys that it swaps atomically, so
// signing and verification never take a lock.
package keys
