// Package password stores and checks user passwords: Argon2id hashes in the
// PHC string format ($argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>, OWASP
// parameters), constant-time verification with a rehash signal when the
// parameters change, a decoy verification for unknown usernames, and a
// NIST SP 800-63B password policy with an embedded list of the 10,000 most
// common passwords.
//
// The one idea: hashing is bounded and fails fast. Each Argon2id call costs
// tens of milliseconds of CPU and Memory KiB of RAM by design, so a login
// flood is a resource attack on us as much as a guessing attack on users.
// Every Hash and Verify runs in one of a fixed number of slots behind a short
// wait queue; a caller that cannot get a slot within MaxWait (or its
// context's deadline), or finds the queue full, gets ErrBusy at once and no
// hashing is done. Memory use is therefore capped at about
// MaxConcurrent × Memory, whatever the request rate, and overload shows up
// as fast 503s rather than a growing backlog of slow logins. Stored hashes
// are input too: the PHC parser bounds every parameter, so a tampered row
// cannot make a Verify allocate gigabytes.
package password
