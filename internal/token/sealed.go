package token

import (
	"crypto/cipher"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"sync"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/authd/authd/internal/oauth"
)

// Sealed opaque access tokens carry their own record, encrypted and
// authenticated under a key of this deployment (Options.SealKey), instead of
// being a random handle to a row. Issuing one writes nothing, so nothing can
// be lost: a token acknowledged before a SIGKILL or a power cut is as valid
// after it, on every replica, with no fsync on the token path. Clients and
// resource servers see an opaque string, as RFC 6749 §1.4 has it; only this
// server can read it (introspection, RFC 7662).
//
// What can end such a token before its exp is durable server state, checked
// on every answer: its id in the revocation list (RFC 7009 revocation, written
// synchronously), its grant's revocation, its user's generation and its
// client's existence, exactly as for JWTs.
//
// Layout, base64url without padding:
//
//	version (1) || nonce (24) || XChaCha20-Poly1305(claims) (n + 16)
//
// and the claims, in this order: sub, client_id, scope, jti, gid, the
// DPoP key thumbprint, the certificate thumbprint, the act claim as JSON
// (each a uvarint length and the bytes; "" when absent), the audience (a
// uvarint count, then each as above), exp, iat and the user's generation
// (uvarints). A fixed binary layout, not JSON: decoding it is on every
// introspection, and it makes the token shorter.
//
// XChaCha20-Poly1305's 192-bit nonces are random, so one key seals any number
// of tokens without a counter to keep (a 96-bit random nonce would cap a key
// at about 2^32 tokens). The version byte is the associated data, so a token
// cannot be taken for another layout.
const (
	sealedVersion  byte = 1
	sealedOverhead      = 1 + chacha20poly1305.NonceSizeX + chacha20poly1305.Overhead
	// sealedMinLen is the shortest sealed token's length in characters:
	// longer than a stored token's, so the two never collide.
	sealedMinLen = (sealedOverhead*8 + 5) / 6
)

// sealedClaims are what a sealed token carries: the claims of a JWT access
// token that introspection answers with. The issuer is implicit.
type sealedClaims struct {
	Sub, ClientID, Scope, Jti, Gid string
	Aud                            []string
	Exp, Iat                       int64
	Ugen                           int64
	Cnf                            *oauth.Confirmation
	Act                            *Actor
}

func appendLenString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func (c *sealedClaims) appendBinary(b []byte) []byte {
	var cnf oauth.Confirmation
	if c.Cnf != nil {
		cnf = *c.Cnf
	}
	for _, f := range [...]string{c.Sub, c.ClientID, c.Scope, c.Jti, c.Gid, cnf.JKT, cnf.X5TS256, c.Act.encode()} {
		b = appendLenString(b, f)
	}
	b = binary.AppendUvarint(b, uint64(len(c.Aud)))
	for _, a := range c.Aud {
		b = appendLenString(b, a)
	}
	for _, n := range [...]int64{c.Exp, c.Iat, c.Ugen} {
		b = binary.AppendUvarint(b, uint64(n))
	}
	return b
}

// claimsReader reads appendBinary's layout; the first short or malformed
// read sets bad, and every later read returns zero values.
type claimsReader struct {
	s   string // the whole plaintext: fields are substrings of one allocation
	bad bool
}

func (r *claimsReader) uvarint() uint64 {
	if r.bad {
		return 0
	}
	var v uint64
	for i := 0; i < len(r.s) && i < binary.MaxVarintLen64; i++ {
		b := r.s[i]
		if i == binary.MaxVarintLen64-1 && b > 1 {
			break // overflows 64 bits
		}
		v |= uint64(b&0x7f) << (7 * i)
		if b < 0x80 {
			r.s = r.s[i+1:]
			return v
		}
	}
	r.bad = true
	return 0
}

func (r *claimsReader) field() string {
	n := r.uvarint()
	if r.bad || n > uint64(len(r.s)) {
		r.bad = true
		return ""
	}
	f := r.s[:n]
	r.s = r.s[n:]
	return f
}

func (r *claimsReader) time() int64 {
	v := r.uvarint()
	if v > 1<<62 {
		r.bad = true
	}
	return int64(v)
}

// decodeSealedClaims returns the claims by value: the caller copies them
// into its answer, so they need no allocation of their own.
func decodeSealedClaims(plain []byte) (sealedClaims, bool) {
	r := &claimsReader{s: string(plain)}
	c := sealedClaims{Sub: r.field(), ClientID: r.field(), Scope: r.field(), Jti: r.field(), Gid: r.field()}
	if cnf := (oauth.Confirmation{JKT: r.field(), X5TS256: r.field()}); cnf.Bound() {
		c.Cnf = &cnf
	}
	act := r.field()
	// An audience is a handful of URLs: a count past what the rest of the
	// token could hold is junk, not an allocation to make.
	if n := r.uvarint(); n > uint64(len(r.s)) {
		r.bad = true
	} else if n > 0 {
		c.Aud = make([]string, n)
		for i := range c.Aud {
			c.Aud[i] = r.field()
		}
	}
	c.Exp, c.Iat, c.Ugen = r.time(), r.time(), r.time()
	if r.bad || r.s != "" || c.Jti == "" || c.ClientID == "" {
		return sealedClaims{}, false
	}
	if act != "" {
		a, err := decodeActor(act)
		if err != nil {
			return sealedClaims{}, false
		}
		c.Act = a
	}
	return c, true
}

type tokenSealer struct {
	aead cipher.AEAD
	// bufs recycles the buffers tokens are decoded and decrypted in: the
	// claims are copied out, so one per token need not be garbage.
	bufs sync.Pool // *[]byte
}

func newTokenSealer(key []byte) (*tokenSealer, error) {
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("token: seal key: %w", err)
	}
	t := &tokenSealer{aead: aead}
	t.bufs.New = func() any { b := make([]byte, 0, 512); return &b }
	return t, nil
}

var sealedAD = []byte{sealedVersion}

func (t *tokenSealer) seal(c *sealedClaims, random func([]byte)) string {
	// One buffer: header, then the claims, encrypted where they lie (the
	// output starts exactly where the plaintext does, which the AEAD allows).
	const hdr = 1 + chacha20poly1305.NonceSizeX
	buf := make([]byte, hdr, sealedOverhead+192)
	buf[0] = sealedVersion
	random(buf[1:hdr])
	buf = c.appendBinary(buf)
	buf = t.aead.Seal(buf[:hdr], buf[1:hdr], buf[hdr:], sealedAD)
	return base64.RawURLEncoding.EncodeToString(buf)
}

// open returns the claims of a token this deployment sealed, or false for
// anything else: another layout, another key, a changed byte, junk. It does
// not look at the claims' times: that is the caller's job.
func (t *tokenSealer) open(tok string) (sealedClaims, bool) {
	if len(tok) < sealedMinLen || len(tok) > MaxTokenLength {
		return sealedClaims{}, false
	}
	bp := t.bufs.Get().(*[]byte)
	defer t.bufs.Put(bp)
	raw := (*bp)[:0]
	if n := base64.RawURLEncoding.DecodedLen(len(tok)); n > cap(raw) {
		raw = make([]byte, n)
		*bp = raw[:0]
	} else {
		raw = raw[:n]
	}
	n, err := base64.RawURLEncoding.Decode(raw, []byte(tok))
	if err != nil || n < sealedOverhead || raw[0] != sealedVersion {
		return sealedClaims{}, false
	}
	raw = raw[:n]
	nonce, box := raw[1:1+chacha20poly1305.NonceSizeX], raw[1+chacha20poly1305.NonceSizeX:]
	plain, err := t.aead.Open(box[:0], nonce, box, sealedAD)
	if err != nil {
		return sealedClaims{}, false
	}
	return decodeSealedClaims(plain) // copies what it keeps out of the buffer
}

// isSealed tells a sealed token from a stored one (48 characters) and a
// JWT (two dots) by its shape alone; open decides whether it is one.
func isSealed(tok string) bool { return len(tok) >= sealedMinLen && !isJWT(tok) }

// sealedInfo is the introspection answer for a sealed token, without the
// revocation check (screen makes it).
func (s *Service) sealedInfo(tok string) *Info {
	if s.sealer == nil {
		return inactive
	}
	c, ok := s.sealer.open(tok)
	if !ok {
		return inactive
	}
	if !s.withinLifetime(c.Iat, c.Exp) {
		return inactive
	}
	return &Info{
		Active:    true,
		Scope:     c.Scope,
		ClientID:  c.ClientID,
		TokenType: tokenType(c.Cnf),
		Cnf:       c.Cnf,
		Exp:       c.Exp,
		Iat:       c.Iat,
		Nbf:       c.Iat,
		Sub:       c.Sub,
		Aud:       c.Aud,
		Iss:       s.opts.Issuer,
		Act:       c.Act,
		grantID:   c.Gid,
		userGen:   c.Ugen,
		sealedID:  c.Jti,
	}
}
