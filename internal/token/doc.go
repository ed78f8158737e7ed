// Package token is authd's token service: the token endpoint's grants (one file
// each), introspection (single and batch) and revocation, over two access-token
// formats: RFC 9068 JWTs, which need no write, and opaque tokens, of which only
// the SHA-256 is stored.
//
// The one idea: every step all grants share (client authentication, grant and
// scope checks, lifetime) lives in Exchange, which dispatches to a grant with a
// plain switch, so no grant can skip them. A token asked for an API resource
// (RFC 8707, resource.go) is shaped by it: aud, scope, format and lifetime.
// Token exchange (RFC 8693) and JWT bearer (RFC 7523) take a token instead of
// a code or password: authd's own (introspected or verified with its keys)
// or a trusted issuer's (trusted_jwt.go); an exchanged token carries who acts
// (act, actor.go) and stays within the subject token's scope, lifetime and
// grant. Errors are *oauth.Error values; any
// other error is a server fault the caller must not show.
package token
