package dpop

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"
)

// ReplayCache is what CheckReplay needs from a replay cache: package
// replay's Cache (its memory and Redis backends) satisfies it.
type ReplayCache interface {
	// Use records key until until and reports whether this is its first
	// use; of concurrent calls with one key exactly one is first.
	Use(ctx context.Context, key string, until time.Time) (first bool, err error)
}

// ReplayMargin is how much longer than a proof could be accepted its record
// is kept. Replicas judge iat by their own clocks: one whose clock is behind
// accepts a proof a little longer than the one that recorded it thinks, and
// the record must outlive that.
const ReplayMargin = 10 * time.Second

// CheckReplay records p as used and returns ErrReplay if it was used before
// (RFC 9449 §11.1: the server MUST ensure a jti is not reused within the
// proof's window). A proof is identified by its key and jti together, so one
// client cannot burn another's jti. The record lasts until p.Expires plus
// ReplayMargin; after that, Verify with the same options refuses the proof
// by its iat.
//
// Any other error is the cache's (Redis unreachable, a memory cache full of
// live records): it is not an *Error, and the caller must refuse the request
// (as temporarily unavailable, not as a bad proof), since whether the proof
// is a replay is unknown.
func CheckReplay(ctx context.Context, c ReplayCache, p *Proof) error {
	first, err := c.Use(ctx, p.ReplayKey(), p.Expires.Add(ReplayMargin))
	switch {
	case err != nil:
		return fmt.Errorf("dpop: replay check: %w", err)
	case !first:
		return ErrReplay
	}
	return nil
}

// ReplayKey is the replay-cache key of p: "dpop:" and the base64url SHA-256
// of its thumbprint and jti, 48 bytes whatever the jti holds.
func (p *Proof) ReplayKey() string {
	h := sha256.New()
	h.Write([]byte(p.JKT))
	h.Write([]byte{0})
	h.Write([]byte(p.JTI))
	var sum [sha256.Size]byte
	return "dpop:" + base64.RawURLEncoding.EncodeToString(h.Sum(sum[:0]))
}
