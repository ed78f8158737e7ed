// Package account manages the people who log in to authd: creating users,
// setting passwords, and authenticating a username and password.
//
// The one idea: Authenticate is the only door. The login form and the
// password grant both call it, so every password defence lives in one place
// and cannot be skipped by one caller: usernames are normalised the same way
// they were stored, an unknown username costs a full decoy Argon2id
// verification (response time does not reveal which accounts exist), a
// disabled account answers exactly as a wrong password does (its password is
// still verified, for the same reason),
// hashes made with old parameters are upgraded on the next successful login,
// and an optional Guard sees every attempt before any hashing is done (the
// seam where brute-force and credential-stuffing defences hook in).
//
// Hashing is bounded by password.Hasher: when no slot is free, the methods
// return an error matching password.ErrBusy, which callers answer with a
// retryable 503, never with "invalid credentials".
package account
