package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/internal/store"
)

// Signing algorithms authd supports (RFC 7518 §3.1, RFC 8037 §3.1).
const (
	ES256 = "ES256"
	EdDSA = "EdDSA"
	RS256 = "RS256"
)

// Algorithms lists the supported algorithms, for discovery documents.
var Algorithms = []string{ES256, EdDSA, RS256}

// allowedAlgs is what Verify accepts: an explicit list, so a token cannot choose
// "none" or an HMAC algorithm keyed by a public key (RFC 8725 §3.1).
var allowedAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.EdDSA, jose.RS256}

// ValidAlgorithm reports whether alg is one authd can sign with.
func ValidAlgorithm(alg string) bool {
	switch alg {
	case ES256, EdDSA, RS256:
		return true
	}
	return false
}

// generate makes a new private key for alg. RSA keys are 2048 bits: enough per
// NIST SP 800-57 until 2030, and 4096-bit keys cost 6 ms a signature.
func generate(alg string) (crypto.Signer, error) {
	switch alg {
	case ES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case EdDSA:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	case RS256:
		return rsa.GenerateKey(rand.Reader, 2048)
	}
	return nil, fmt.Errorf("keys: unsupported algorithm %q", alg)
}

// NewSigningKey generates a key for alg, to start signing at activeAt, and
// returns it as a store record: the
// private key sealed under sealer, bound to its kid, and the public JWK. The kid
// is the key's RFC 7638 thumbprint.
func NewSigningKey(alg string, sealer *Sealer, activeAt time.Time) (*store.SigningKey, error) {
	priv, err := generate(alg)
	if err != nil {
		return nil, err
	}
	pub := jose.JSONWebKey{Key: priv.Public(), Algorithm: alg, Use: "sig"}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, err
	}
	pub.KeyID = base64.RawURLEncoding.EncodeToString(tp)
	pubJSON, err := json.Marshal(pub)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	return &store.SigningKey{
		ID:         pub.KeyID,
		Algorithm:  alg,
		PrivateKey: sealer.Seal(der, aadFor(pub.KeyID)),
		PublicJWK:  pubJSON,
		CreatedAt:  activeAt,
	}, nil
}

func aadFor(kid string) []byte { return []byte("authd signing key " + kid) }

// liveKey is a usable key: public for verification, signers when it is current.
type liveKey struct {
	id       string
	activeAt time.Time // when it starts signing
	alg      jose.SignatureAlgorithm
	pub      any
	priv     crypto.Signer
	// purposes are the Purpose names the key may be verified for.
	purposes map[string]bool
}

func openKey(k *store.SigningKey, sealer *Sealer) (*liveKey, error) {
	if !ValidAlgorithm(k.Algorithm) {
		return nil, fmt.Errorf("keys: key %s has unsupported algorithm %q", k.ID, k.Algorithm)
	}
	der, err := sealer.Open(k.PrivateKey, aadFor(k.ID))
	if err != nil {
		return nil, fmt.Errorf("keys: key %s: %w (is AUTHD_MASTER_KEY the one the key was stored under?)", k.ID, err)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("keys: key %s: %w", k.ID, err)
	}
	priv, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("keys: key %s is not a signing key", k.ID)
	}
	return &liveKey{id: k.ID, alg: jose.SignatureAlgorithm(k.Algorithm), pub: priv.Public(), priv: priv}, nil
}
