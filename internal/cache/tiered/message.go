package tiered

import (
	"encoding/binary"
	"errors"
)

// An invalidation message: a version byte, the sender's id, then each key as a
// uvarint length and its bytes. Length-prefixed, so keys may hold any byte.
const messageVersion byte = 1

const idLen = 8

var errBadMessage = errors.New("cache/tiered: malformed invalidation message")

func encodeMessage(id [idLen]byte, keys []string) []byte {
	n := 1 + idLen
	for _, k := range keys {
		n += binary.MaxVarintLen64 + len(k)
	}
	b := make([]byte, 0, n)
	b = append(b, messageVersion)
	b = append(b, id[:]...)
	for _, k := range keys {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
	}
	return b
}

func decodeMessage(p string) (id [idLen]byte, keys []string, err error) {
	if len(p) < 1+idLen || p[0] != messageVersion {
		return id, nil, errBadMessage
	}
	copy(id[:], p[1:1+idLen])
	p = p[1+idLen:]
	for len(p) > 0 {
		n, w := uvarint(p)
		if w <= 0 || n > uint64(len(p)-w) {
			return id, nil, errBadMessage
		}
		keys = append(keys, p[w:w+int(n)])
		p = p[w+int(n):]
	}
	return id, keys, nil
}

// uvarint is binary.Uvarint over a string, so that decoding does not copy the
// message.
func uvarint(s string) (uint64, int) {
	var x uint64
	var shift uint
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		b := s[i]
		if b < 0x80 {
			if i == binary.MaxVarintLen64-1 && b > 1 {
				return 0, -(i + 1)
			}
			return x | uint64(b)<<shift, i + 1
		}
		x |= uint64(b&0x7f) << shift
		shift += 7
	}
	return 0, 0
}
