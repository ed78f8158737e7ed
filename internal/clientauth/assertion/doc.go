// Package assertion verifies JWT client assertions: the client_assertion and
// client_assertion_type form parameters of RFC 7521 §4.2 with the JWT profile of
// RFC 7523 §2.2 and §3, as the private_key_jwt and client_secret_jwt methods of
// OpenID Connect Core §9 use them, and federated workload credentials: a token
// from a trusted issuer (a Kubernetes service-account token, a SPIFFE JWT-SVID,
// a CI system's OIDC token) standing in for a client's own assertion.
//
// The one idea: verification is a pure function of the form values, the
// registered client and the clock, plus four small interfaces this package
// declares and others implement: KeySource (a client's jwks_uri), IssuerKeys
// (a trusted issuer's keys), Secrets (a client secret in a recoverable form,
// for client_secret_jwt) and Replay (single use of a jti). It opens no
// connection and keeps no state of its own.
//
// Use it in two steps, because the client an assertion names is known only after
// parsing it: Parse the form values, look up the client that
// Assertion.ClientID names (through the caller's client cache), then Verify the
// assertion against that client. Every refusal is an *Error: its oauth error is
// invalid_client (RFC 6749 §5.2) or, when a key source, the replay store or a
// secret store is down, temporarily_unavailable (503); its Reason and Detail are
// for logs and audit and never contain the assertion or a secret.
package assertion
