// Package defense turns rate limits into defences: a login guard against brute
// force and credential stuffing, per-client and per-address request limits,
// and detection of token enumeration.
//
// Request limits follow identity, not address: a request whose client proved
// itself is that client's (RequestPolicy.PerClient, off by default); the
// per-address budget is spent only by requests that did not authenticate,
// so a gateway is never throttled for its address while junk from an
// address is (CheckIP before a request, ChargeIP after one).
//
// The one idea: refuse abuse before it costs anything. A password attempt
// from an address or against an account that is over its budget is refused
// (429 with Retry-After) before the Argon2id hash, so a flood of guesses
// spends nothing and leaves the hashing slots to legitimate users.
//
// And refuse the attacker, not the victim: failures on an account are
// counted per source (address, or trusted device), so whoever guesses locks
// out only the addresses they guess from; a looser bound on the whole
// account stops guessing spread over many addresses, and the owner's trusted
// sources (a device cookie from an earlier login, an address that logged in
// recently) are exempt from it.
package defense
