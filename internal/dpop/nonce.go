package dpop

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"sync/atomic"
	"time"
)

// NonceChecker decides whether a proof's nonce claim is one the server
// supplied recently (RFC 9449 §8, §9). *Nonces is one.
type NonceChecker interface {
	Valid(nonce string, now time.Time) bool
}

// DefaultNonceWindow is the window of Nonces made with a zero window: a nonce
// is accepted for one to two windows, here 5 to 10 minutes.
const DefaultNonceWindow = 5 * time.Minute

// MinNonceKeyLen is the shortest key NewNonces accepts: a nonce is an HMAC
// under it, and a guessable key would let a client make nonces for windows
// that have not come yet (RFC 9449 §11.2: nonces limit pre-generated proofs).
const MinNonceKeyLen = 32

// nonceTagLen is how many bytes of the HMAC a nonce keeps: 128 bits, so a
// nonce cannot be guessed, in 22 base64url characters.
const nonceTagLen = 16

// nonceLen is the length of every nonce, checked before any HMAC.
var nonceLen = base64.RawURLEncoding.EncodedLen(nonceTagLen)

// Nonces makes and checks server-supplied DPoP nonces (RFC 9449 §8, §9)
// without storing any: the nonce of a time window is
// base64url(HMAC-SHA256(key, label ‖ window length ‖ window number))
// truncated to 128 bits. Every replica holding the key issues the same nonce
// in the same window and accepts every other's, with no coordination. A
// nonce changes every window; Valid accepts the previous window's too (a
// client that fetched one just before the change), and the next window's (a
// replica whose clock is slightly ahead), so one stays usable for one to two
// windows. It is safe for concurrent use.
type Nonces struct {
	key    []byte
	window time.Duration
	// cur caches the three nonces around the last window asked about, so
	// that Current and Valid compute three HMACs a window, not one a call.
	cur atomic.Pointer[nonceWindows]
}

type nonceWindows struct {
	n                int64 // window number
	prev, this, next string
}

// NewNonces returns Nonces under key (at least MinNonceKeyLen bytes, which
// every replica shares; a data key derived for this one purpose) changing
// every window (DefaultNonceWindow when zero). key is copied.
func NewNonces(key []byte, window time.Duration) (*Nonces, error) {
	if len(key) < MinNonceKeyLen {
		return nil, errors.New("dpop: nonce key shorter than 32 bytes")
	}
	if window == 0 {
		window = DefaultNonceWindow
	}
	if window < time.Second {
		return nil, errors.New("dpop: nonce window shorter than a second")
	}
	return &Nonces{key: append([]byte(nil), key...), window: window}, nil
}

// Current returns the nonce to send in DPoP-Nonce at now.
func (n *Nonces) Current(now time.Time) string { return n.at(now).this }

// Valid implements NonceChecker: it reports whether nonce is the nonce of
// now's window, the one before or the one after. It compares in constant time.
func (n *Nonces) Valid(nonce string, now time.Time) bool {
	if len(nonce) != nonceLen {
		return false
	}
	w := n.at(now)
	// Each comparison is constant-time; doing all three keeps the time
	// independent of which window matched.
	ok := subtle.ConstantTimeCompare([]byte(nonce), []byte(w.this)) |
		subtle.ConstantTimeCompare([]byte(nonce), []byte(w.prev)) |
		subtle.ConstantTimeCompare([]byte(nonce), []byte(w.next))
	return ok == 1
}

func (n *Nonces) at(now time.Time) *nonceWindows {
	num := floorDiv(now.UnixNano(), int64(n.window))
	if w := n.cur.Load(); w != nil && w.n == num {
		return w
	}
	w := &nonceWindows{n: num, prev: n.derive(num - 1), this: n.derive(num), next: n.derive(num + 1)}
	n.cur.Store(w)
	return w
}

// nonceLabel separates these HMACs from any other use of the key.
const nonceLabel = "authd dpop-nonce v1\x00"

// derive is the nonce of window number num.
func (n *Nonces) derive(num int64) string {
	var msg [len(nonceLabel) + 16]byte
	copy(msg[:], nonceLabel)
	binary.BigEndian.PutUint64(msg[len(nonceLabel):], uint64(n.window))
	binary.BigEndian.PutUint64(msg[len(nonceLabel)+8:], uint64(num))
	mac := hmac.New(sha256.New, n.key)
	mac.Write(msg[:])
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:nonceTagLen])
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}
