package replay

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// MaxKeyLen bounds a key, in bytes. Keys are stored as given; callers that
// build them from request input bound or hash that input (package dpop
// hashes the proof's key thumbprint and jti into a fixed-length key).
const MaxKeyLen = 256

// MaxLifetime bounds how far in the future until may be, so that a caller's
// mistake (a lifetime in seconds read as nanoseconds' worth of years) cannot
// fill a bounded cache with records that never leave.
const MaxLifetime = 24 * time.Hour

// ErrInvalid wraps every error about a call's arguments: an empty or too long
// key, an until that is not in the future or is more than MaxLifetime away.
// Nothing is recorded for such a call.
var ErrInvalid = errors.New("replay: invalid argument")

// ErrUnavailable is wrapped by every error meaning the backend could not
// decide: Redis unreachable, timed out or answering with an error, or an
// in-process cache full of live records. The caller must refuse the use.
var ErrUnavailable = errors.New("replay: unavailable")

// Cache records keys as used. Implementations are safe for concurrent use.
type Cache interface {
	// Use records key as used until until and reports whether this is its
	// first use: true when no record of key was live, false when one was.
	//
	// Atomic: of any number of concurrent calls with one key (from any
	// number of processes sharing the backend), exactly one reports true.
	// A call that reports false changes nothing; in particular it does not
	// extend the record. The record is live at every instant before until
	// and gone (the key may be first again) soon after: a backend may round
	// until up, by at most a millisecond.
	//
	// Errors wrap ErrInvalid (bad arguments, see CheckArgs), ErrUnavailable,
	// or the caller's context error; with an error, first is false.
	Use(ctx context.Context, key string, until time.Time) (first bool, err error)
}

// CheckArgs returns an error wrapping ErrInvalid unless key is 1 to
// MaxKeyLen bytes and until is after now by at most MaxLifetime. Backends
// call it with their own now.
func CheckArgs(key string, until, now time.Time) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty key", ErrInvalid)
	case len(key) > MaxKeyLen:
		return fmt.Errorf("%w: key of %d bytes is longer than %d", ErrInvalid, len(key), MaxKeyLen)
	case !until.After(now):
		return fmt.Errorf("%w: until %v is not after now %v", ErrInvalid, until, now)
	case until.Sub(now) > MaxLifetime:
		return fmt.Errorf("%w: until is %v away, more than %v", ErrInvalid, until.Sub(now), MaxLifetime)
	}
	return nil
}
