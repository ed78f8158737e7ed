package mtls

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
)

// Confirmation is the cnf member of a certificate-bound access token (RFC
// 8705 §3.1, JWT claim) and of its introspection response (§3.2).
type Confirmation struct {
	X5TS256 string `json:"x5t#S256"`
}

// ThumbprintLength is the length of an x5t#S256 value: 32 bytes, base64url
// without padding.
const ThumbprintLength = 43

// Thumbprint is the x5t#S256 of cert: the base64url encoding, without
// padding, of the SHA-256 of its DER encoding (RFC 8705 §3.1; RFC 7515 §2 for
// base64url without padding).
func Thumbprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	var b [ThumbprintLength]byte
	base64.RawURLEncoding.Encode(b[:], sum[:])
	return string(b[:])
}

// Bound reports whether cert is the certificate x5tS256 names, in time that
// does not depend on where they differ. It is what binding checks need: a
// refresh token bound to a public client's certificate (RFC 8705 §4), an
// access token at a resource server (§3).
func Bound(cert *x509.Certificate, x5tS256 string) bool {
	if cert == nil || len(x5tS256) != ThumbprintLength {
		return false
	}
	sum := sha256.Sum256(cert.Raw)
	var b [ThumbprintLength]byte
	base64.RawURLEncoding.Encode(b[:], sum[:])
	return subtle.ConstantTimeCompare(b[:], []byte(x5tS256)) == 1
}
