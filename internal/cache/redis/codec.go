package redis

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"time"
)

// Stored value layouts. The first byte names the layout so that a cache never
// mistakes one for the other (a cache that requires sealing rejects a clear value).
//
//	clear:  0x01 | expires (8, big-endian Unix ms) | value
//	sealed: 0x02 | nonce (12) | AES-256-GCM(expires | value, aad = full key) incl. tag (16)
const (
	layoutClear  byte = 1
	layoutSealed byte = 2
	expiresLen        = 8
	nonceLen          = 12
	tagLen            = 16
)

// encode lays out value for fullKey, expiring at expiresMs (Unix ms). The
// result is a fresh slice owned by the caller.
func (c *Cache) encode(fullKey string, value []byte, expiresMs int64) []byte {
	if c.aead == nil {
		b := make([]byte, 1+expiresLen+len(value))
		b[0] = layoutClear
		binary.BigEndian.PutUint64(b[1:], uint64(expiresMs))
		copy(b[1+expiresLen:], value)
		return b
	}
	n := 1 + nonceLen + expiresLen + len(value) + tagLen
	// The full key is copied after the sealed value so that the additional
	// data costs no second allocation; only b[:n] is stored.
	b := make([]byte, n+len(fullKey))
	aad := b[n:]
	copy(aad, fullKey)
	b[0] = layoutSealed
	nonce := b[1 : 1+nonceLen]
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails (Go 1.24+)
	pt := b[1+nonceLen : 1+nonceLen+expiresLen+len(value)]
	binary.BigEndian.PutUint64(pt, uint64(expiresMs))
	copy(pt[expiresLen:], value)
	c.aead.Seal(pt[:0], nonce, pt, aad) // in place; the tag fills b up to n
	return b[:n]
}

// decode opens a stored value. The returned Value is never nil (an empty
// value is not a miss) and may share raw's memory.
func (c *Cache) decode(fullKey string, raw []byte) (Entry, error) {
	if c.aead == nil {
		if len(raw) < 1+expiresLen || raw[0] != layoutClear {
			return Entry{}, fmt.Errorf("%w: key %q: not a clear value", ErrCorrupt, fullKey)
		}
		return Entry{
			Value:   raw[1+expiresLen:],
			Expires: time.UnixMilli(int64(binary.BigEndian.Uint64(raw[1:]))),
		}, nil
	}
	if len(raw) < 1+nonceLen+expiresLen+tagLen || raw[0] != layoutSealed {
		return Entry{}, fmt.Errorf("%w: key %q: not a sealed value", ErrCorrupt, fullKey)
	}
	ct := raw[1+nonceLen:]
	n := len(ct) - tagLen
	// raw may be memory rueidis handed out as a string, so it is not opened
	// in place; one buffer holds the plaintext and, after it, the aad.
	b := make([]byte, n+len(fullKey))
	aad := b[n:]
	copy(aad, fullKey)
	pt, err := c.aead.Open(b[:0:n], raw[1:1+nonceLen], ct, aad)
	if err != nil {
		return Entry{}, fmt.Errorf("%w: key %q", ErrCorrupt, fullKey)
	}
	return Entry{
		Value:   pt[expiresLen:],
		Expires: time.UnixMilli(int64(binary.BigEndian.Uint64(pt))),
	}, nil
}

// ttlMillis rounds ttl up to whole milliseconds, Redis's resolution, so that a
// sub-millisecond TTL still stores and never outlives what was asked by more
// than a millisecond.
func ttlMillis(ttl time.Duration) int64 {
	return int64((ttl + time.Millisecond - 1) / time.Millisecond)
}
