package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"
)

// MaxPasswordBytes is the longest password, in UTF-8 bytes after NFKC
// normalisation, that a Hasher will hash. It matches Policy's default cap of
// 1024 characters of up to 4 bytes each, and bounds the (linear) cost that a
// giant input adds to every hash.
const MaxPasswordBytes = 4096

// ErrPasswordTooLong is returned by Hash for a password over MaxPasswordBytes.
var ErrPasswordTooLong = errors.New("password: password too long")

// Limits bound the hashing a Hasher does at once. Zero values take the
// defaults.
type Limits struct {
	// MaxConcurrent is how many hashes run at once; default runtime.NumCPU().
	MaxConcurrent int
	// MaxQueue is how many callers may wait for a slot beyond the running
	// ones; default 4*MaxConcurrent; negative means none (fail at once when
	// every slot is busy).
	MaxQueue int
	// MaxWait is the longest a caller waits for a slot; default 2s.
	MaxWait time.Duration
}

func (l Limits) withDefaults() Limits {
	if l.MaxConcurrent <= 0 {
		l.MaxConcurrent = runtime.NumCPU()
	}
	switch {
	case l.MaxQueue == 0:
		l.MaxQueue = 4 * l.MaxConcurrent
	case l.MaxQueue < 0:
		l.MaxQueue = 0
	}
	if l.MaxWait <= 0 {
		l.MaxWait = 2 * time.Second
	}
	return l
}

// Stats are a Hasher's counters, for metrics.
type Stats struct {
	InFlight int    // hashes running now
	Queued   int    // callers waiting for a slot now
	Rejected uint64 // calls that returned ErrBusy since New
}

// keyFunc has argon2.IDKey's signature; tests substitute it to count, block
// or inspect derivations without paying for them.
type keyFunc func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte

// Hasher hashes and verifies passwords with Argon2id under a concurrency
// limit. It is safe for concurrent use; build one per process with New and
// share it.
type Hasher struct {
	params Params
	gate   *gate
	idKey  keyFunc
	// dummy is a PHC string at params with a random salt and random key,
	// which no password matches (see randomHash). VerifyDummy verifies
	// against it, and VerifyDecoy while there is no census.
	dummy string
	// decoys is the census-weighted table VerifyDecoy draws from; nil until
	// SetCensus.
	decoys atomic.Pointer[decoys]
	// decoyKey is used when a census brings no key of its own.
	decoyKey []byte
}

// New returns a Hasher that hashes with p. It panics if p is outside the
// bounds of Params.Validate: params are configuration, checked at start-up.
func New(p Params, lim Limits) *Hasher {
	if err := p.Validate(); err != nil {
		panic(err)
	}
	lim = lim.withDefaults()
	decoyKey := make([]byte, 32)
	rand.Read(decoyKey) // never fails: crypto/rand crashes the program instead
	return &Hasher{
		params:   p,
		gate:     newGate(lim.MaxConcurrent, lim.MaxQueue, lim.MaxWait),
		idKey:    argon2.IDKey,
		dummy:    randomHash(p),
		decoyKey: decoyKey,
	}
}

// Params returns the parameters new hashes are made with.
func (h *Hasher) Params() Params { return h.params }

// Stats returns the current counters.
func (h *Hasher) Stats() Stats {
	return Stats{
		InFlight: int(h.gate.inFlight.Load()),
		Queued:   int(h.gate.queued.Load()),
		Rejected: h.gate.rejected.Load(),
	}
}

// Hash returns the PHC string of password at the Hasher's params, with a
// fresh random salt. The password is NFKC-normalised first (NIST SP 800-63B
// §5.1.1.2), so the same characters typed on different keyboards match.
// Errors: ErrBusy (no slot in time, nothing hashed), ErrPasswordTooLong.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	pw, ok := normalize(password)
	if !ok {
		return "", ErrPasswordTooLong
	}
	salt := make([]byte, h.params.SaltLen)
	rand.Read(salt)
	key, err := h.derive(ctx, pw, salt, h.params)
	if err != nil {
		return "", err
	}
	return encodePHC(h.params, salt, key), nil
}

// Verify reports whether password matches the PHC string encoded, comparing
// in constant time. needsRehash is true when it matches but encoded was made
// with params other than the Hasher's: the caller should then store a fresh
// Hash while it has the plaintext. Errors: ErrInvalidHash (wrapped) for a
// malformed or out-of-bounds stored hash, ErrBusy (nothing hashed). A wrong
// password is ok == false with a nil error.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (ok, needsRehash bool, err error) {
	stored, err := parsePHC(encoded)
	if err != nil {
		return false, false, err
	}
	pw, fits := normalize(password)
	if !fits {
		// Hash never accepts such a password, so it cannot match.
		return false, false, nil
	}
	key, err := h.derive(ctx, pw, stored.salt, stored.params)
	if err != nil {
		return false, false, err
	}
	if subtle.ConstantTimeCompare(key, stored.key) != 1 {
		return false, false, nil
	}
	return true, stored.params != h.params, nil
}

// VerifyDummy does the work of a Verify at the Hasher's current params
// against a hash no password matches. It matches the cost of a known user
// only while every stored hash is at the current params; VerifyDecoy also
// matches it after a parameter change. It returns nil once the work is
// done, or ErrBusy as Verify does.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) error {
	_, _, err := h.Verify(ctx, password, h.dummy)
	return err
}

// derive runs Argon2id in a gate slot. Every hash and verify goes through
// here, so none escapes the concurrency limit.
func (h *Hasher) derive(ctx context.Context, pw, salt []byte, p Params) ([]byte, error) {
	if err := h.gate.acquire(ctx); err != nil {
		return nil, err
	}
	defer h.gate.release()
	return h.idKey(pw, salt, p.Time, p.Memory, p.Threads, p.KeyLen), nil
}

// normalize applies NFKC and the length cap. The raw length is checked first
// so normalisation itself runs on bounded input (NFKC can expand a string).
func normalize(password string) ([]byte, bool) {
	if len(password) > MaxPasswordBytes {
		return nil, false
	}
	pw := norm.NFKC.String(password)
	if len(pw) > MaxPasswordBytes {
		return nil, false
	}
	return []byte(pw), true
}
