// Package outbound is the one place authd opens outbound HTTP connections:
// to clients' jwks_uri, Client ID Metadata Documents, the OpenID
// configuration of trusted issuers. Every such fetch goes through a
// Fetcher, which no caller can ask to skip its rules.
//
// The one idea: a URL that reaches authd from a client's metadata is the
// attacker's choice, so the fetcher treats it as such. Only https to
// public addresses is fetched; the address is checked when the connection
// is dialled (net.Dialer.ControlContext), after DNS has answered, so a
// name that resolves to a public address for one look-up and to
// 169.254.169.254 for the next (DNS rebinding) is still refused, and every
// redirect is checked again. Loopback, and plain http to loopback, are
// allowed only with Options.AllowLoopback (AUTHD_OUTBOUND_ALLOW_LOOPBACK),
// for tests and single-host setups; private, link-local and the other
// special-purpose ranges never are. A response is capped in size and
// time and is a document only with status 200 and a media type the
// caller asked for.
//
// # Caching
//
// Documents are cached by the rules of RFC 9111 for a private cache:
// max-age, Expires, no-cache, no-store, must-revalidate, Age and Vary: *,
// revalidated with ETag and Last-Modified (a 304 freshens the stored
// document). Freshness is clamped to [MinTTL, MaxTTL] so that a server
// can neither make authd fetch on every request nor pin a document for a
// week. Concurrent callers of one URL share one fetch. When a fetch
// fails, the stale document is served for a bounded time and the failure
// is remembered for ErrorTTL, so an unreachable server is not asked again
// by every request.
//
// # On top
//
// JWKS parses JWK Sets (RFC 7517) once per version and refetches a set
// for an unknown key id at most once per RefreshInterval. Discover reads
// an OpenID Provider's configuration and checks its issuer (OIDC
// Discovery 1.0 §4.3).
//
// Errors wrap the package's sentinels (ErrRefused, ErrTooLarge,
// ErrUnavailable, ErrBadResponse, ErrIssuerMismatch, ErrKeyNotFound), so a
// caller maps them to its protocol's errors in one place.
package outbound
