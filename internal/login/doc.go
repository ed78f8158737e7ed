// Package login is the browser side of the OAuth 2.0 authorization code flow
// and OpenID Connect: the authorization endpoint (RFC 6749 §4.1), the login
// and consent forms, browser sessions, sign-out (OpenID Connect
// RP-Initiated Logout 1.0, see logout.go) and a signed-in user's password
// change (account_password.go). It ends by issuing an authorization code;
// redeeming it is the token endpoint's job.
//
// The one idea: nothing the browser sends is trusted twice. The authorization
// request is validated in the order RFC 6749 §4.1.2.1 requires (client and
// redirect URI first, and their failures are a page, never a redirect), then
// carried through the login and consent forms in hidden fields and validated
// again from scratch on every POST. A pushed request (RFC 9126) or a signed
// request object (RFC 9101) resolves to the same parameters first
// (pushed.go); a pushed request's are carried under an HMAC, so they stay
// what was pushed. Every form carries a CSRF token bound to
// a per-browser cookie (and, for consent, to the session and a short
// lifetime); the session cookie and the code are 256 random bits of which
// only the SHA-256 is stored; every password check goes through
// account.Service.Authenticate.
//
// Pages are server-rendered html/template with no JavaScript, under a
// Content-Security-Policy that allows only the embedded stylesheet and the
// operator's logo (brand.go), both served from our own origin.
package login
