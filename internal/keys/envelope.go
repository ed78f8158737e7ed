package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// MasterKeySize is the size of the master key in bytes (AES-256).
const MasterKeySize = 32

// ErrDecrypt is returned when a ciphertext does not open: wrong key, wrong
// associated data, or tampering. It says nothing more, on purpose.
var ErrDecrypt = errors.New("keys: ciphertext does not open")

// Sealer encrypts small secrets with AES-256-GCM. A random 96-bit nonce is
// prepended to each ciphertext; with at most a few billion seals per key, the
// collision risk stays far below 2^-32 (NIST SP 800-38D §8.3).
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer returns a Sealer keyed by a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != MasterKeySize {
		return nil, fmt.Errorf("keys: key must be %d bytes, got %d", MasterKeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plaintext bound to aad (which is authenticated, not encrypted):
// a ciphertext moved to another record with other aad does not open.
func (s *Sealer) Seal(plaintext, aad []byte) []byte {
	ns := s.aead.NonceSize()
	out := make([]byte, ns, ns+len(plaintext)+s.aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		panic("keys: crypto/rand failed: " + err.Error()) // never happens on supported platforms
	}
	return s.aead.Seal(out, out[:ns], plaintext, aad)
}

// Open decrypts what Seal produced with the same aad, or returns ErrDecrypt.
func (s *Sealer) Open(ciphertext, aad []byte) ([]byte, error) {
	ns := s.aead.NonceSize()
	if len(ciphertext) < ns+s.aead.Overhead() {
		return nil, ErrDecrypt
	}
	pt, err := s.aead.Open(nil, ciphertext[:ns], ciphertext[ns:], aad)
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// DeriveKey derives an independent 32-byte key for one purpose (label) from the
// master key with HKDF-SHA256 (RFC 5869), so the key that protects signing keys is
// never reused, say, for cache entries in Redis.
func DeriveKey(master []byte, label string) ([]byte, error) {
	return hkdf.Key(sha256.New, master, nil, "authd "+label, MasterKeySize)
}
