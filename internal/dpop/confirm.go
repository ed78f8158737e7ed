package dpop

import (
	"crypto"
	"crypto/sha256"
	"encoding/base64"

	"github.com/go-jose/go-jose/v4"
)

// Names on the wire.
const (
	// HeaderName is the request header carrying a proof (RFC 9449 §4.1).
	HeaderName = "DPoP"
	// NonceHeaderName is the response header carrying a server nonce
	// (RFC 9449 §8, §9).
	NonceHeaderName = "DPoP-Nonce"
	// TokenType is the token_type of a DPoP-bound access token in the token
	// response (RFC 9449 §5) and the authorization scheme it is presented
	// with (§7.1).
	TokenType = "DPoP"
)

// Confirmation is the cnf claim of a DPoP-bound JWT access token (RFC 9449
// §6.1) and the cnf member of an introspection response for one (§6.2):
// {"cnf":{"jkt":"<thumbprint>"}}. JKT is Proof.JKT.
type Confirmation struct {
	JKT string `json:"jkt"`
}

// Thumbprint returns the RFC 7638 JWK SHA-256 thumbprint of key, base64url
// encoded without padding: the jkt of RFC 9449 §6.1 (cnf.jkt) and §10
// (dpop_jkt). The thumbprint of a private key is that of its public key.
func Thumbprint(key *jose.JSONWebKey) (string, error) {
	tp, err := key.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// AccessTokenHash returns the ath value for token: the base64url encoding of
// the SHA-256 hash of its ASCII value (RFC 9449 §4.2).
func AccessTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
