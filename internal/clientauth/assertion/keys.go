package assertion

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"

	jose "github.com/go-jose/go-jose/v4"
)

// minRSABits is the smallest RSA modulus accepted (RFC 7518 §3.3: 2048 or
// larger MUST be used). go-jose refuses moduli over 4096 bits when parsing.
const minRSABits = 2048

// maxCandidates bounds the keys one assertion may be tried against: a JWK Set
// that repeats a kid must not turn one request into many verifications.
const maxCandidates = 4

// maxInlineKeys bounds the keys of a registered jwks that are looked at.
const maxInlineKeys = 32

// verifyWith checks the signature against the keys that fit the assertion's
// kid and alg. Without a kid, exactly one key may fit (OpenID Connect Core
// §10.1: a kid MUST be given when a set has several keys).
func (a *Assertion) verifyWith(keys []jose.JSONWebKey) error {
	var fit [maxCandidates]any
	n, extra := 0, false
	for i := range keys {
		k := &keys[i]
		if a.kid != "" && k.KeyID != a.kid {
			continue
		}
		pub, ok := keyFits(k, a.alg)
		if !ok {
			continue
		}
		if n == len(fit) {
			extra = true
			break
		}
		fit[n] = pub
		n++
	}
	switch {
	case n == 0 && a.kid != "":
		return refuse(ReasonKey, "no registered key with kid %s fits alg %s", quote(a.kid), a.alg)
	case n == 0:
		return refuse(ReasonKey, "no registered key fits alg %s", a.alg)
	case a.kid == "" && (n > 1 || extra):
		return refuse(ReasonKey, "no kid, and several registered keys fit alg %s", a.alg)
	}
	for _, pub := range fit[:n] {
		if a.verifySignature(pub) {
			return nil
		}
	}
	return refuse(ReasonSignature, "signature does not verify (kid %s, alg %s)", quote(a.kid), a.alg)
}

// verifySignature checks the signature with one public key that keyFits
// accepted for a.alg.
func (a *Assertion) verifySignature(pub any) bool {
	if a.alg == AlgEd25519 {
		// RFC 9864 §2.2: the same signature as EdDSA with an Ed25519 key, over
		// the JWS signing input (RFC 7515 §5.2). Parse has refused crit and
		// b64, so the input is exactly the first two segments as sent.
		return ed25519.Verify(pub.(ed25519.PublicKey), []byte(a.signingInput), a.signature())
	}
	_, err := a.jws.Verify(pub)
	return err == nil
}

// keyFits returns the public key of k if it may verify alg: a public key of
// the type and size alg needs, whose use (when present) is "sig" and whose alg
// (when present) is alg (RFC 7517 §4.2, §4.4). EdDSA and Ed25519 are one
// algorithm on an Ed25519 key (RFC 9864 §2.2), so either alg on the key allows
// either in the header.
func keyFits(k *jose.JSONWebKey, alg jose.SignatureAlgorithm) (any, bool) {
	if k.Use != "" && k.Use != "sig" {
		return nil, false
	}
	if k.Algorithm != "" && k.Algorithm != string(alg) && !(isEdDSA(alg) && isEdDSA(jose.SignatureAlgorithm(k.Algorithm))) {
		return nil, false
	}
	key := k.Key
	switch p := key.(type) {
	// A registered set should hold public keys only; if a client published
	// its private key, verifying with the public half is still correct.
	case *ecdsa.PrivateKey:
		key = &p.PublicKey
	case *rsa.PrivateKey:
		key = &p.PublicKey
	case ed25519.PrivateKey:
		key = p.Public()
	}
	switch alg {
	case jose.ES256, jose.ES384:
		p, ok := key.(*ecdsa.PublicKey)
		want := elliptic.P256()
		if alg == jose.ES384 {
			want = elliptic.P384()
		}
		return p, ok && p.Curve == want
	case jose.RS256, jose.PS256:
		p, ok := key.(*rsa.PublicKey)
		return p, ok && p.N.BitLen() >= minRSABits
	case jose.EdDSA, AlgEd25519:
		p, ok := key.(ed25519.PublicKey)
		return p, ok && len(p) == ed25519.PublicKeySize
	}
	return nil, false
}

// parseJWKS decodes a registered jwks, skipping keys it cannot use (RFC 7517
// §5: unknown kty or parameters are ignored, not fatal to the set).
func parseJWKS(raw []byte) ([]jose.JSONWebKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, err
	}
	keys := make([]jose.JSONWebKey, 0, min(len(set.Keys), maxInlineKeys))
	for i, r := range set.Keys {
		if i == maxInlineKeys {
			break
		}
		var k jose.JSONWebKey
		if k.UnmarshalJSON(r) == nil {
			keys = append(keys, k)
		}
	}
	return keys, nil
}

func isHMAC(alg jose.SignatureAlgorithm) bool {
	return alg == jose.HS256 || alg == jose.HS384 || alg == jose.HS512
}

func isEdDSA(alg jose.SignatureAlgorithm) bool { return alg == jose.EdDSA || alg == AlgEd25519 }

// hmacKeySize is the hash output size, the smallest key RFC 7518 §3.2 allows.
func hmacKeySize(alg jose.SignatureAlgorithm) int {
	switch alg {
	case jose.HS384:
		return 48
	case jose.HS512:
		return 64
	}
	return 32
}
