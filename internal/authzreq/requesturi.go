package authzreq

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// RequestURIPrefix starts every request_uri the pushed authorization request
// endpoint issues (RFC 9126 §2.2: a URN, here the one of RFC 9126 §7.1).
const RequestURIPrefix = "urn:ietf:params:oauth:request_uri:"

// requestURIRandomBytes is the entropy of a request_uri: RFC 9126 §7.1 asks
// that it be hard to guess; 256 bits, like codes and opaque tokens.
const requestURIRandomBytes = 32

// NewRequestURI returns a fresh request_uri built from random (which must
// be cryptographically random) and the hash under which it is stored.
func NewRequestURI(random func([]byte)) (uri string, hash []byte) {
	b := make([]byte, requestURIRandomBytes)
	random(b)
	uri = RequestURIPrefix + base64.RawURLEncoding.EncodeToString(b)
	return uri, HashRequestURI(uri)
}

// IsPushed reports whether uri has the shape of a request_uri authd issues.
// Any other request_uri is refused with request_uri_not_supported: authd
// never fetches one (RFC 9101 §5.2 would have it dereference URLs).
func IsPushed(uri string) bool {
	rest, ok := strings.CutPrefix(uri, RequestURIPrefix)
	if !ok || len(rest) != base64.RawURLEncoding.EncodedLen(requestURIRandomBytes) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(rest)
	return err == nil
}

// HashRequestURI is the store key of a request_uri: its SHA-256, so the
// table holds nothing that can be presented.
func HashRequestURI(uri string) []byte {
	h := sha256.Sum256([]byte(uri))
	return h[:]
}
