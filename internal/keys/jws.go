package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// compactSigner makes compact JWSs (RFC 7515 §7.1) with one key and one typ.
// The protected header is the same for every token it signs, so it is
// encoded once; a token then costs one base64 pass over the payload, one hash
// and the signature, where a general JOSE signer rebuilds and re-marshals the
// header map each time. Verification stays with go-jose.
type compactSigner struct {
	prefix []byte // BASE64URL(UTF8(JWS Protected Header)) || '.'
	alg    string
	priv   crypto.Signer
}

func newCompactSigner(k *liveKey, typ string) (*compactSigner, error) {
	switch k.alg {
	case ES256:
		if _, ok := k.priv.(*ecdsa.PrivateKey); !ok {
			return nil, fmt.Errorf("keys: key %s is %T, not ECDSA", k.id, k.priv)
		}
	case EdDSA:
		if _, ok := k.priv.(ed25519.PrivateKey); !ok {
			return nil, fmt.Errorf("keys: key %s is %T, not Ed25519", k.id, k.priv)
		}
	case RS256:
		if _, ok := k.priv.(*rsa.PrivateKey); !ok {
			return nil, fmt.Errorf("keys: key %s is %T, not RSA", k.id, k.priv)
		}
	default:
		return nil, fmt.Errorf("keys: unsupported algorithm %q", k.alg)
	}
	hdr := struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ,omitempty"`
	}{string(k.alg), k.id, typ}
	raw, err := json.Marshal(hdr)
	if err != nil {
		return nil, err
	}
	prefix := base64.RawURLEncoding.AppendEncode(make([]byte, 0, base64.RawURLEncoding.EncodedLen(len(raw))+1), raw)
	return &compactSigner{prefix: append(prefix, '.'), alg: string(k.alg), priv: k.priv}, nil
}

// Sign returns the compact serialization of payload signed with the key.
func (c *compactSigner) Sign(payload []byte) (string, error) {
	enc := base64.RawURLEncoding
	// The longest signature is RSA's: 256 bytes for the 2048-bit keys authd
	// makes; a bigger imported key only makes append grow the buffer once.
	buf := make([]byte, 0, len(c.prefix)+enc.EncodedLen(len(payload))+1+enc.EncodedLen(256))
	buf = append(buf, c.prefix...)
	buf = enc.AppendEncode(buf, payload)
	sig, err := c.signature(buf)
	if err != nil {
		return "", err
	}
	buf = append(buf, '.')
	return string(enc.AppendEncode(buf, sig)), nil
}

// signature signs the JWS Signing Input as RFC 7518 §3.1 has alg do it.
func (c *compactSigner) signature(input []byte) ([]byte, error) {
	switch c.alg {
	case EdDSA:
		// RFC 8037 §3.1: Ed25519 signs the input itself, not a digest.
		return c.priv.Sign(nil, input, crypto.Hash(0))
	case RS256:
		digest := sha256.Sum256(input)
		return c.priv.Sign(rand.Reader, digest[:], crypto.SHA256)
	default: // ES256
		digest := sha256.Sum256(input)
		der, err := c.priv.Sign(rand.Reader, digest[:], crypto.SHA256)
		if err != nil {
			return nil, err
		}
		return ecdsaFixed(der, 32)
	}
}

// ecdsaFixed turns an ASN.1 ECDSA signature into RFC 7518 §3.4's R || S,
// each big-endian and left-padded to size octets.
func ecdsaFixed(der []byte, size int) ([]byte, error) {
	var r, s big.Int
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, asn1.SEQUENCE) || !in.Empty() ||
		!seq.ReadASN1Integer(&r) || !seq.ReadASN1Integer(&s) || !seq.Empty() ||
		r.Sign() <= 0 || s.Sign() <= 0 || r.BitLen() > 8*size || s.BitLen() > 8*size {
		return nil, fmt.Errorf("keys: malformed ECDSA signature")
	}
	out := make([]byte, 2*size)
	r.FillBytes(out[:size])
	s.FillBytes(out[size:])
	return out, nil
}
