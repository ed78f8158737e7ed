// Package authzreq provides what authorization requests need beyond their
// parameters: JWT-Secured Authorization Requests (RFC 9101), verified with
// the client's registered keys, and the request_uri values of pushed
// authorization requests (RFC 9126).
//
// The one idea: a request object is untrusted input until its signature,
// issuer, audience, times and client_id check out; what comes out of Verify is
// a plain set of authorization request parameters that replaces whatever was
// sent beside the object (RFC 9101 §5), and is then validated exactly like a
// plain request by its consumer (package login). Every refusal is an
// *oauth.Error: invalid_request_object, or temporarily_unavailable when the
// client's jwks_uri cannot be read. It opens no connection itself (KeySource
// is the outbound fetcher) and keeps no state.
package authzreq
