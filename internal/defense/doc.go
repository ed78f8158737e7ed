// Package defense turns rate limits into defences: a login guard against brute
// force and credential stuffing, per-client and per-address request limits,
// and detection of token enumeration.
//
// The one idea: refuse abuse before it costs anything. A password attempt
// from an address or against an account that is over its budget is refused
// (429 with Retry-After) before the Argon2id hash, so a flood of guesses
// spends nothing and leaves the hashing slots to legitimate users.
package defense
