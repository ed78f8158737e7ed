package device

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
)

// Alphabet is the user-code alphabet RFC 8628 §6.1 suggests: 20 consonants
// with no vowels (no words spelled by accident) and none that look alike.
const Alphabet = "BCDFGHJKLMNPQRSTVWXZ"

// Length is a user code's length without its dash: 20^8 ≈ 2^34.5 codes
// (RFC 8628 §6.1), against which the rate limit on wrong entries and the
// code's short life make guessing hopeless (§5.1).
const Length = 8

// maxInput bounds what Normalize reads: a code with generous separators.
const maxInput = 64

// Normalize reads a user code as a person typed it: case-insensitive, with
// dashes and spaces ignored (RFC 8628 §6.1). It returns the code as
// Length alphabet characters, or false if input is not a user code.
func Normalize(input string) (string, bool) {
	if len(input) > maxInput {
		return "", false
	}
	var b [Length]byte
	n := 0
	for i := 0; i < len(input); i++ {
		c := input[i]
		switch {
		case c == '-' || c == ' ' || c == '\t':
			continue
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		}
		if !inAlphabet(c) || n == Length {
			return "", false
		}
		b[n] = c
		n++
	}
	if n != Length {
		return "", false
	}
	return string(b[:]), true
}

func inAlphabet(c byte) bool {
	for i := 0; i < len(Alphabet); i++ {
		if Alphabet[i] == c {
			return true
		}
	}
	return false
}

// Format shows a normalised code as a person reads it: BCDF-GHJK.
func Format(code string) string {
	if len(code) != Length {
		return code
	}
	return code[:Length/2] + "-" + code[Length/2:]
}

// Codes makes and hashes user codes under one key. It is safe for
// concurrent use.
type Codes struct {
	key    []byte
	random func([]byte)
}

// NewCodes returns Codes keyed by key (32 bytes; every replica needs the
// same, so derive it from the master key). random fills a slice with
// cryptographically random bytes; nil is crypto/rand.
func NewCodes(key []byte, random func([]byte)) *Codes {
	if random == nil {
		random = func(b []byte) { _, _ = rand.Read(b) } // crypto/rand.Read never fails (Go 1.24+)
	}
	return &Codes{key: append([]byte(nil), key...), random: random}
}

// New returns a fresh user code, formatted for display, and its hash.
func (c *Codes) New() (string, []byte) {
	var code [Length]byte
	var buf [2 * Length]byte
	for n := 0; n < Length; {
		c.random(buf[:])
		for _, x := range buf {
			// Rejection sampling keeps every character equally likely:
			// 240 is the largest multiple of 20 below 256.
			if x >= 240 || n == Length {
				continue
			}
			code[n] = Alphabet[int(x)%len(Alphabet)]
			n++
		}
	}
	return Format(string(code[:])), c.Hash(string(code[:]))
}

// Hash is the HMAC-SHA256 under which a normalised code is stored.
func (c *Codes) Hash(normalized string) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte("authd-user-code\x00"))
	m.Write([]byte(normalized))
	return m.Sum(nil)
}

// DeriveKey derives the user-code key from a data key of the deployment
// (the opaque-token tag key: every replica has it, and master-key rotation
// keeps its value), so no new secret needs storing.
func DeriveKey(parent []byte) []byte {
	m := hmac.New(sha256.New, parent)
	m.Write([]byte("authd device user codes"))
	return m.Sum(nil)
}
