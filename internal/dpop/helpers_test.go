package dpop_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// The request most cases are about, at a fixed time.
var (
	t0      = time.Unix(1_900_000_000, 0)
	testURI = "https://server.example.com/token"
)

// signer holds a client key and signs proofs with it for one alg.
type signer struct {
	alg  string
	priv crypto.Signer
	// sign signs a JWS signing input as alg requires.
	sign func(input []byte) []byte
}

// RSA keys are slow to make: one of each size per test binary.
var (
	rsa2048 = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA(2048) })
	rsa1024 = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA(1024) })
)

func mustRSA(bits int) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		panic(err)
	}
	return k
}

func mustEC(c elliptic.Curve) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

// newSigner returns a signer with a fresh key for alg (RSA keys are shared).
func newSigner(t testing.TB, alg string) *signer {
	t.Helper()
	switch alg {
	case "ES256":
		return ecSigner(alg, mustEC(elliptic.P256()))
	case "ES384":
		return ecSigner(alg, mustEC(elliptic.P384()))
	case "RS256", "PS256":
		return rsaSigner(alg, rsa2048())
	case "EdDSA", "Ed25519":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return edSigner(alg, k)
	}
	t.Fatalf("no signer for %s", alg)
	return nil
}

func ecSigner(alg string, k *ecdsa.PrivateKey) *signer {
	return &signer{alg: alg, priv: k, sign: func(in []byte) []byte { return signEC(k, in) }}
}

func rsaSigner(alg string, k *rsa.PrivateKey) *signer {
	return &signer{alg: alg, priv: k, sign: func(in []byte) []byte {
		d := sha256.Sum256(in)
		var sig []byte
		var err error
		if alg == "PS256" {
			sig, err = rsa.SignPSS(rand.Reader, k, crypto.SHA256, d[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		} else {
			sig, err = rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, d[:])
		}
		if err != nil {
			panic(err)
		}
		return sig
	}}
}

func edSigner(alg string, k ed25519.PrivateKey) *signer {
	return &signer{alg: alg, priv: k, sign: func(in []byte) []byte { return ed25519.Sign(k, in) }}
}

// signEC makes a JWS ECDSA signature: r ‖ s, each as long as the curve's
// order (RFC 7518 §3.4).
func signEC(k *ecdsa.PrivateKey, in []byte) []byte {
	var digest []byte
	switch k.Curve {
	case elliptic.P256():
		d := sha256.Sum256(in)
		digest = d[:]
	case elliptic.P384():
		d := sha512.Sum384(in)
		digest = d[:]
	}
	r, s, err := ecdsa.Sign(rand.Reader, k, digest)
	if err != nil {
		panic(err)
	}
	n := (k.Curve.Params().BitSize + 7) / 8
	out := make([]byte, 2*n)
	r.FillBytes(out[:n])
	s.FillBytes(out[n:])
	return out
}

// publicJWK returns the signer's public key as a JWK object.
func (s *signer) publicJWK() map[string]any { return jwkMap(s.priv.Public()) }

// privateJWK returns the signer's private key as a JWK object.
func (s *signer) privateJWK() map[string]any { return jwkMap(s.priv) }

func jwkMap(key any) map[string]any {
	b, err := jose.JSONWebKey{Key: key}.MarshalJSON()
	if err != nil {
		panic(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		panic(err)
	}
	return m
}

// thumbprint is the signer's jkt, by go-jose.
func (s *signer) thumbprint(t testing.TB) string {
	t.Helper()
	tp, err := (&jose.JSONWebKey{Key: s.priv.Public()}).Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(tp)
}

// header and claims of a valid proof for the test request at t0.
func (s *signer) header() map[string]any {
	return map[string]any{"typ": "dpop+jwt", "alg": s.alg, "jwk": s.publicJWK()}
}

func validClaims() map[string]any {
	return map[string]any{"jti": "e1j3V_bKic8-LAEB", "htm": "POST", "htu": testURI, "iat": t0.Unix()}
}

// proof returns a valid proof, after edit (if any) changed its header and
// claims.
func (s *signer) proof(edit func(h, c map[string]any)) string {
	h, c := s.header(), validClaims()
	if edit != nil {
		edit(h, c)
	}
	return s.signJSON(mustJSON(h), mustJSON(c))
}

// signJSON signs raw header and claims bytes as they are.
func (s *signer) signJSON(h, c []byte) string {
	in := b64(h) + "." + b64(c)
	return in + "." + b64(s.sign([]byte(in)))
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// hmacProof signs header and claims with HMAC-SHA256 under key, as an
// attacker trying alg confusion would.
func hmacProof(h, c map[string]any, key []byte) string {
	in := b64(mustJSON(h)) + "." + b64(mustJSON(c))
	m := hmac.New(sha256.New, key)
	m.Write([]byte(in))
	return in + "." + b64(m.Sum(nil))
}

func clone(m map[string]any) map[string]any { return maps.Clone(m) }
