// Package device provides the user codes of the device authorization grant
// (RFC 8628): generating them, reading what a person typed, and the keyed
// hash under which they are stored.
//
// The one idea: a user code is short enough to type, so it is guessable in
// principle; it is stored only as an HMAC under a key of this deployment (a
// leaked table yields no usable code), it is single-use and short-lived, and
// the verification page limits wrong entries per address (RFC 8628 §5.1).
package device
