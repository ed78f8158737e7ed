package token

import (
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"fmt"

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
//	version (1) || nonce (24) || XChaCha20-Poly1305(claims JSON) (n + 16)
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
// token that introspection answers with, with short names (the token's
// length is on every request that carries it). The issuer is implicit.
type sealedClaims struct {
	Sub      string              `json:"s"`
	ClientID string              `json:"c"`
	Aud      []string            `json:"a,omitempty"`
	Scope    string              `json:"sc,omitempty"`
	Exp      int64               `json:"e"`
	Iat      int64               `json:"i"`
	Jti      string              `json:"j"`
	Gid      string              `json:"g,omitempty"`
	Ugen     int64               `json:"u,omitempty"`
	Cnf      *oauth.Confirmation `json:"cnf,omitempty"`
	Act      *Actor              `json:"act,omitempty"`
}

type tokenSealer struct{ aead cipher.AEAD }

func newTokenSealer(key []byte) (*tokenSealer, error) {
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("token: seal key: %w", err)
	}
	return &tokenSealer{aead: aead}, nil
}

var sealedAD = []byte{sealedVersion}

func (t *tokenSealer) seal(c *sealedClaims, random func([]byte)) (string, error) {
	plain, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	buf := make([]byte, 1+chacha20poly1305.NonceSizeX, sealedOverhead+len(plain))
	buf[0] = sealedVersion
	random(buf[1:])
	buf = t.aead.Seal(buf, buf[1:], plain, sealedAD)
	return base64.RawURLEncoding.EncodeToString(buf), nil
}

// open returns the claims of a token this deployment sealed, or false for
// anything else: another layout, another key, a changed byte, junk. It does
// not look at the claims' times: that is the caller's job.
func (t *tokenSealer) open(tok string) (*sealedClaims, bool) {
	if len(tok) < sealedMinLen || len(tok) > MaxTokenLength {
		return nil, false
	}
	raw := make([]byte, base64.RawURLEncoding.DecodedLen(len(tok)))
	n, err := base64.RawURLEncoding.Decode(raw, []byte(tok))
	if err != nil || n < sealedOverhead || raw[0] != sealedVersion {
		return nil, false
	}
	raw = raw[:n]
	nonce, box := raw[1:1+chacha20poly1305.NonceSizeX], raw[1+chacha20poly1305.NonceSizeX:]
	plain, err := t.aead.Open(box[:0], nonce, box, sealedAD)
	if err != nil {
		return nil, false
	}
	var c sealedClaims
	if err := json.Unmarshal(plain, &c); err != nil || c.Jti == "" || c.ClientID == "" {
		return nil, false
	}
	return &c, true
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
	now := s.opts.Now().Unix()
	leeway := int64(s.opts.Leeway.Seconds())
	// As for JWTs (verifyJWT): no token authd issues lives past MaxTTL, so
	// one that claims to was not minted under this server's rules.
	if maxTTL := int64(s.opts.MaxTTL.Seconds()) + leeway; c.Exp <= now || c.Iat > now+leeway || c.Exp-c.Iat > maxTTL {
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
