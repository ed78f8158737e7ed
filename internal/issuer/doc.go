// Package issuer manages trusted issuers: identity providers whose JWTs
// authd accepts as the subject or actor token of a token exchange (RFC 8693
// §2.1) and as the assertion of the JWT bearer grant (RFC 7523 §2.1). It
// validates what an administrator registers, stores it, drops what caches
// hold about it, and records each change in the audit trail.
//
// The one idea: a trusted issuer is trusted only for the audience and the
// subject mapping registered with it. Its sub names an authd user by id,
// username or verified email, or (none) nobody, so that its tokens can
// show who acts but never become a user's token.
package issuer
