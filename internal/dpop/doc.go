// Package dpop verifies RFC 9449 DPoP proofs (OAuth 2.0 Demonstrating Proof
// of Possession) and makes the values a server derives from them: the key
// thumbprint a token is bound to (cnf.jkt), the access-token hash (ath), and
// server nonces (DPoP-Nonce).
//
// The one idea: verification is a pure function. Verify takes the proof,
// what the server knows about the request (method, target URI, time, the
// access token presented with it, the key a token or code is bound to) and a
// policy, and returns the verified proof or an *Error naming the check that
// failed, with the RFC error code it is answered with (invalid_dpop_proof or
// use_dpop_nonce). It does no I/O and writes no HTTP. The one stateful check,
// that a proof is used once (RFC 9449 §11.1), is separate: CheckReplay
// records the proof's key and jti in a replay cache (package replay's
// memory or Redis backend, through the small ReplayCache interface declared
// here) and refuses a second use. Nonces are stateless too: Nonces derives
// them from a shared key and the time window, so every replica accepts every
// other's without coordination.
//
// Proofs are JWS compact serializations parsed by go-jose with an allow-list
// of asymmetric algorithms (ES256, ES384, PS256, RS256, EdDSA and its RFC
// 9864 name Ed25519), never none or a MAC. Before go-jose sees a proof,
// Verify refuses what it must not process: a non-canonical base64url
// segment, a typ other than dpop+jwt, an alg outside the list, a jwk with
// private members, crit or b64 headers. JSON is read with go-jose's parser,
// which matches member names case-sensitively and refuses duplicates, so
// "HTM" is not htm and no member can be read two ways.
package dpop
