package password

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrInvalidHash is returned (wrapped, with the detail) when a stored hash is
// not an Argon2id PHC string this package accepts.
var ErrInvalidHash = errors.New("password: invalid hash")

// The PHC string format, as the reference argon2 CLI writes it:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// salt and key in standard base64 without padding. The parser accepts exactly
// what encodePHC writes (fixed parameter order, no leading zeros, canonical
// base64), so every accepted string re-encodes to itself and a hash has one
// spelling only.
const (
	phcPrefix  = "$argon2id$v=19$m="
	argon2Ver  = 19 // 0x13, the only version golang.org/x/crypto/argon2 implements
	b64MaxSalt = (maxSaltLen*8 + 5) / 6
	b64MaxKey  = (maxKeyLen*8 + 5) / 6
	// maxEncodedLen bounds the input before any parsing: prefix, three
	// 10-digit numbers, separators and the longest salt and key.
	maxEncodedLen = len(phcPrefix) + 10 + len(",t=") + 10 + len(",p=") + 10 + 1 + b64MaxSalt + 1 + b64MaxKey
)

// b64 is strict: a non-zero trailing bit would otherwise give one salt or key
// several spellings.
var b64 = base64.RawStdEncoding.Strict()

// phc is a parsed hash. params.SaltLen and params.KeyLen are the lengths of
// salt and key, so params compares directly with a Hasher's.
type phc struct {
	params    Params
	salt, key []byte
}

// encodePHC writes the PHC string for a hash. It allocates once.
func encodePHC(p Params, salt, key []byte) string {
	n := len(phcPrefix) + 3*10 + len(",t=,p=$$") + b64.EncodedLen(len(salt)) + b64.EncodedLen(len(key))
	b := make([]byte, 0, n)
	b = append(b, phcPrefix...)
	b = strconv.AppendUint(b, uint64(p.Memory), 10)
	b = append(b, ",t="...)
	b = strconv.AppendUint(b, uint64(p.Time), 10)
	b = append(b, ",p="...)
	b = strconv.AppendUint(b, uint64(p.Threads), 10)
	b = append(b, '$')
	b = b64.AppendEncode(b, salt)
	b = append(b, '$')
	b = b64.AppendEncode(b, key)
	return string(b)
}

// parsePHC parses and bounds-checks an Argon2id PHC string. It never panics
// and does no work proportional to absurd parameters: everything is checked
// against Params.Validate's bounds before a caller can hash with it.
func parsePHC(s string) (phc, error) {
	var h phc
	if len(s) > maxEncodedLen {
		return h, invalid("too long")
	}
	rest, ok := strings.CutPrefix(s, "$argon2id$")
	if !ok {
		return h, invalid("not an argon2id PHC string")
	}
	rest, ok = strings.CutPrefix(rest, "v=")
	if !ok {
		// Version 0x10 hashes omit v=; x/crypto cannot verify them.
		return h, invalid("missing version")
	}
	ver, rest, ok := field(rest, '$')
	if !ok || ver != argon2Ver {
		return h, invalid("unsupported version")
	}
	m, rest, ok := param(rest, "m=", ',')
	if !ok {
		return h, invalid("bad m")
	}
	t, rest, ok := param(rest, "t=", ',')
	if !ok {
		return h, invalid("bad t")
	}
	p, rest, ok := param(rest, "p=", '$')
	if !ok || p > maxThreads {
		return h, invalid("bad p")
	}
	salt, key, ok := strings.Cut(rest, "$")
	if !ok {
		return h, invalid("missing key")
	}
	if h.salt, ok = decodeB64(salt, b64MaxSalt); !ok {
		return h, invalid("bad salt encoding")
	}
	if h.key, ok = decodeB64(key, b64MaxKey); !ok {
		return h, invalid("bad key encoding")
	}
	h.params = Params{
		Memory:  m,
		Time:    t,
		Threads: uint8(p),
		SaltLen: uint32(len(h.salt)),
		KeyLen:  uint32(len(h.key)),
	}
	if err := h.params.Validate(); err != nil {
		return phc{}, fmt.Errorf("%w: %w", ErrInvalidHash, err)
	}
	return h, nil
}

func invalid(why string) error { return fmt.Errorf("%w: %s", ErrInvalidHash, why) }

// param reads `name` `digits` `sep`.
func param(s, name string, sep byte) (v uint32, rest string, ok bool) {
	s, ok = strings.CutPrefix(s, name)
	if !ok {
		return 0, "", false
	}
	return field(s, sep)
}

// field reads a canonical decimal uint32 terminated by sep: digits only, no
// sign, no leading zero, at most 10 digits, no overflow.
func field(s string, sep byte) (v uint32, rest string, ok bool) {
	i := strings.IndexByte(s, sep)
	if i < 1 || i > 10 || (i > 1 && s[0] == '0') {
		return 0, "", false
	}
	var n uint64
	for _, c := range []byte(s[:i]) {
		if c < '0' || c > '9' {
			return 0, "", false
		}
		n = n*10 + uint64(c-'0')
	}
	if n > 1<<32-1 {
		return 0, "", false
	}
	return uint32(n), s[i+1:], true
}

// decodeB64 decodes unpadded standard base64 of at most maxLen characters.
// It checks the alphabet itself because encoding/base64 silently skips '\r'
// and '\n', which would let two spellings decode to the same bytes.
func decodeB64(s string, maxLen int) ([]byte, bool) {
	if len(s) == 0 || len(s) > maxLen {
		return nil, false
	}
	for _, c := range []byte(s) {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/') {
			return nil, false
		}
	}
	b, err := b64.DecodeString(s)
	return b, err == nil
}
