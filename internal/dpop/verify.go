package dpop

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/json"
)

// Ed25519 is RFC 9864's fully specified JWS algorithm name for EdDSA over
// Ed25519, which RFC 9864 prefers to the polymorphic "EdDSA". go-jose
// (v4.1.9) knows only "EdDSA", so Verify checks an Ed25519-named signature
// itself, with crypto/ed25519, through go-jose's JWS processing.
const Ed25519 = "Ed25519"

// supported lists every algorithm Verify can accept, in the order published
// as dpop_signing_alg_values_supported (RFC 9449 §5.1). All are asymmetric:
// RFC 9449 §4.2 forbids none and MACs.
var supported = []string{
	string(jose.ES256), string(jose.ES384), string(jose.PS256), string(jose.RS256),
	Ed25519, string(jose.EdDSA),
}

// SupportedAlgorithms returns the algorithms Verify accepts by default, for
// the dpop_signing_alg_values_supported metadata (RFC 9449 §5.1).
func SupportedAlgorithms() []string { return append([]string(nil), supported...) }

// Defaults for Options.
const (
	DefaultLeeway      = 60 * time.Second
	DefaultMaxJTILen   = 128
	DefaultMaxProofLen = 8 << 10
	// MinRSABits is the smallest RSA key accepted: RFC 7518 §3.3 and §3.5
	// require 2048 bits for RS256 and PS256. (go-jose refuses keys over
	// 4096 bits.)
	MinRSABits = 2048
)

// Options are the policy Verify checks a proof against. The zero value is
// the default policy.
type Options struct {
	// Algorithms allowed for the proof's signature; nil allows every one
	// in SupportedAlgorithms (an empty, non-nil list allows none). Names
	// outside SupportedAlgorithms are ignored, so no list can let none or a
	// MAC through. The list is the server's dpop_signing_alg_values_supported.
	Algorithms []string
	// Leeway is how far iat may be from the request's time, in either
	// direction (default DefaultLeeway): RFC 9449 §4.3 step 11 and §11.1
	// leave the window to the server. A proof is accepted for at most
	// twice the Leeway, and its replay record is kept until iat + Leeway +
	// ReplayMargin, which must stay within the replay cache's bound
	// (replay.MaxLifetime, a day).
	Leeway time.Duration
	// MaxJTILen bounds jti, in bytes (default DefaultMaxJTILen). RFC 9449
	// §4.2 asks for 96 random bits or a UUID: 16 to 36 characters.
	MaxJTILen int
	// MaxProofLen bounds the proof, in bytes (default DefaultMaxProofLen),
	// before any parsing.
	MaxProofLen int
	// Nonces, when set, makes a nonce claim mandatory and accepts only those
	// it says are valid (RFC 9449 §8 for the authorization server, §9 for a
	// resource server). The error asks the client to retry with the nonce
	// the server sends in DPoP-Nonce.
	Nonces NonceChecker
}

func (o Options) withDefaults() Options {
	if o.Leeway <= 0 {
		o.Leeway = DefaultLeeway
	}
	if o.MaxJTILen <= 0 {
		o.MaxJTILen = DefaultMaxJTILen
	}
	if o.MaxProofLen <= 0 {
		o.MaxProofLen = DefaultMaxProofLen
	}
	return o
}

// allows reports whether alg is allowed: in the list (or the default list)
// and supported.
func (o Options) allows(alg string) bool {
	supportedAlg := false
	for _, a := range supported {
		if a == alg {
			supportedAlg = true
			break
		}
	}
	if !supportedAlg {
		return false
	}
	if o.Algorithms == nil {
		return true
	}
	for _, a := range o.Algorithms {
		if a == alg {
			return true
		}
	}
	return false
}

// Request is what the server knows about the HTTP request a proof came with.
type Request struct {
	// Method is the request's method, compared with htm exactly (RFC 9449
	// §4.3 step 8; methods are case-sensitive, RFC 9110 §9.1).
	Method string
	// URI is the request's target URI as the server is addressed (its
	// public scheme and host, not a proxy's upstream address), for example
	// the issuer followed by the path. Any query or fragment is ignored
	// (RFC 9449 §4.3 step 9).
	URI string
	// Now is the time the request is judged at.
	Now time.Time
	// AccessToken, when the proof comes with an access token (a protected
	// resource, introspection of a DPoP-bound token), requires ath to be
	// its hash (RFC 9449 §4.3 step 12, §7). Empty at the token endpoint.
	AccessToken string
	// JKT, when non-empty, is the thumbprint the proof's key must have: the
	// cnf.jkt of the access token presented (§4.3 step 12, §6), the key a
	// refresh token is bound to (§5), or the dpop_jkt an authorization code
	// was requested with (§10).
	JKT string
}

// Proof is a verified DPoP proof.
type Proof struct {
	// JKT is the RFC 7638 SHA-256 thumbprint of the proof's key, base64url:
	// the value to bind a token to (Confirmation, RFC 9449 §6).
	JKT string
	// JTI is the proof's unique identifier.
	JTI string
	// IssuedAt is the proof's iat.
	IssuedAt time.Time
	// Expires is the last instant at which Verify with the same Leeway
	// would accept the proof: IssuedAt + Leeway.
	Expires time.Time
	// Algorithm is the proof's alg.
	Algorithm string
}

// header is the part of the JOSE header Verify reads itself, before
// go-jose; go-jose parses it again into the key and algorithm it verifies
// with, with the same JSON rules.
type header struct {
	Typ  string          `json:"typ"`
	Alg  string          `json:"alg"`
	JWK  json.RawMessage `json:"jwk"`
	Crit json.RawMessage `json:"crit"`
	B64  json.RawMessage `json:"b64"`
}

// jwkMembers are the JWK members that matter before the key is parsed: any
// private one (RFC 7518 §6.2.2, §6.3.2; RFC 8037 §2) means the client sent
// its private key, and k means a symmetric key.
type jwkMembers struct {
	D   json.RawMessage `json:"d"`
	P   json.RawMessage `json:"p"`
	Q   json.RawMessage `json:"q"`
	DP  json.RawMessage `json:"dp"`
	DQ  json.RawMessage `json:"dq"`
	QI  json.RawMessage `json:"qi"`
	Oth json.RawMessage `json:"oth"`
	K   json.RawMessage `json:"k"`
}

func (m jwkMembers) private() bool {
	return m.D != nil || m.P != nil || m.Q != nil || m.DP != nil || m.DQ != nil || m.QI != nil || m.Oth != nil
}

// claims are the RFC 9449 §4.2 claims.
type claims struct {
	JTI   string   `json:"jti"`
	HTM   string   `json:"htm"`
	HTU   string   `json:"htu"`
	IAT   *float64 `json:"iat"`
	ATH   string   `json:"ath"`
	Nonce string   `json:"nonce"`
}

// errBadRequest wraps the errors Verify returns for a Request the caller
// built wrongly: a programming error, never the client's.
var errBadRequest = errors.New("dpop: invalid Request")

// Verify checks proof, the value of the request's one DPoP header (see
// ProofHeader), against req and opts, in the order of RFC 9449 §4.3, and
// returns the verified proof. It does not check for replay: call
// CheckReplay with the result.
//
// A refused proof is an *Error (class ErrInvalidProof or ErrUseNonce; the
// sentinels in errors.go name each reason). Any other error means req
// itself is invalid (no Method, no Now, a URI that is not absolute http or
// https), a bug in the caller.
func Verify(proof string, req Request, opts Options) (*Proof, error) {
	opts = opts.withDefaults()
	switch {
	case req.Method == "":
		return nil, fmt.Errorf("%w: no Method", errBadRequest)
	case req.Now.IsZero():
		return nil, fmt.Errorf("%w: no Now", errBadRequest)
	}
	target, err := normalizeURI(req.URI)
	if err != nil {
		return nil, fmt.Errorf("%w: URI %q: %w", errBadRequest, req.URI, err)
	}

	// §4.3 step 2: one well-formed JWT, in compact serialization. Each
	// segment must be canonical base64url, so that no two strings are the
	// same proof.
	if len(proof) == 0 || len(proof) > opts.MaxProofLen {
		return nil, ErrMalformed
	}
	h64, rest, ok1 := strings.Cut(proof, ".")
	p64, s64, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.IndexByte(s64, '.') >= 0 || h64 == "" || p64 == "" || s64 == "" ||
		!canonicalBase64URL(h64) || !canonicalBase64URL(p64) || !canonicalBase64URL(s64) {
		return nil, ErrMalformed
	}
	hb, err := base64.RawURLEncoding.DecodeString(h64)
	if err != nil {
		return nil, ErrMalformed
	}
	var h header
	if err := json.Unmarshal(hb, &h); err != nil {
		return nil, ErrMalformed
	}
	// No extension authd does not process: crit names headers the
	// recipient must understand (RFC 7515 §4.1.11), and b64 (RFC 7797)
	// would change what is signed.
	if h.Crit != nil || h.B64 != nil {
		return nil, ErrMalformed
	}
	// §4.3 step 4. RFC 7515 §4.1.9: typ is a media type, case-insensitive,
	// and may carry the "application/" prefix.
	if strings.TrimPrefix(strings.ToLower(h.Typ), "application/") != "dpop+jwt" {
		return nil, ErrType
	}
	// §4.3 step 5.
	if !opts.allows(h.Alg) {
		return nil, ErrAlgorithm
	}
	// §4.2: jwk is required; §4.3 step 7: it must not be a private key.
	if h.JWK == nil {
		return nil, ErrKey
	}
	var m jwkMembers
	if err := json.Unmarshal(h.JWK, &m); err != nil {
		return nil, ErrKey
	}
	if m.private() {
		return nil, ErrPrivateKey
	}
	if m.K != nil {
		return nil, ErrKey
	}

	jws, err := jose.ParseSignedCompact(proof, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(h.Alg)})
	if err != nil {
		// The header and payload are known to decode: what go-jose
		// refuses is the key (an unknown kty or curve, a point off the
		// curve, an RSA modulus over 4096 bits).
		var jwk jose.JSONWebKey
		if jwk.UnmarshalJSON(h.JWK) != nil {
			return nil, ErrKey
		}
		return nil, ErrMalformed
	}
	if len(jws.Signatures) != 1 || jws.Signatures[0].Header.Algorithm != h.Alg {
		return nil, ErrMalformed
	}
	key := jws.Signatures[0].Header.JSONWebKey
	if key == nil || !key.Valid() || !key.IsPublic() || !keyFits(h.Alg, key.Key) {
		return nil, ErrKey
	}
	// §4.3 step 6. The key is always an asymmetric public key here, never
	// []byte: go-jose cannot be led to check an HMAC.
	verifier := key.Key
	if h.Alg == Ed25519 {
		verifier = ed25519Verifier{key.Key.(ed25519.PublicKey)}
	}
	payload, err := jws.Verify(verifier)
	if err != nil {
		return nil, ErrSignature
	}

	var c claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, ErrMalformed
	}
	// §4.2: jti is required; bounded so that it can be stored.
	if c.JTI == "" || len(c.JTI) > opts.MaxJTILen {
		return nil, ErrJTI
	}
	// §4.3 step 8.
	if c.HTM != req.Method {
		return nil, ErrMethod
	}
	// §4.3 step 9.
	if c.HTU == "" {
		return nil, ErrURI
	}
	if htu, err := normalizeURI(c.HTU); err != nil || htu != target {
		return nil, ErrURI
	}
	// §4.3 step 10: the nonce the server supplied (§8, §9).
	if opts.Nonces != nil {
		if c.Nonce == "" {
			return nil, ErrNonceMissing
		}
		if !opts.Nonces.Valid(c.Nonce, req.Now) {
			return nil, ErrNonceInvalid
		}
	}
	// §4.3 step 11, §11.1.
	iat, ok := numericDate(c.IAT)
	if !ok || iat.Before(req.Now.Add(-opts.Leeway)) || iat.After(req.Now.Add(opts.Leeway)) {
		return nil, ErrIssuedAt
	}
	// §4.3 step 12 and §7: with an access token, ath is its hash.
	if req.AccessToken != "" {
		want := AccessTokenHash(req.AccessToken)
		if subtle.ConstantTimeCompare([]byte(c.ATH), []byte(want)) != 1 {
			return nil, ErrAccessTokenHash
		}
	}
	jkt, err := Thumbprint(key)
	if err != nil {
		return nil, ErrKey
	}
	// §4.3 step 12 (the token's key), §5 (a refresh token's), §10 (dpop_jkt).
	if req.JKT != "" && req.JKT != jkt {
		return nil, ErrKeyMismatch
	}
	return &Proof{
		JKT:       jkt,
		JTI:       c.JTI,
		IssuedAt:  iat,
		Expires:   iat.Add(opts.Leeway),
		Algorithm: h.Alg,
	}, nil
}

// keyFits reports whether key is the kind of key alg signs with: the curve of
// ES256 and ES384, an RSA key of at least MinRSABits for RS256 and PS256, an
// Ed25519 key for EdDSA and Ed25519.
func keyFits(alg string, key any) bool {
	switch k := key.(type) {
	case *ecdsa.PublicKey:
		return alg == string(jose.ES256) && k.Curve == elliptic.P256() ||
			alg == string(jose.ES384) && k.Curve == elliptic.P384()
	case *rsa.PublicKey:
		return (alg == string(jose.RS256) || alg == string(jose.PS256)) && k.N.BitLen() >= MinRSABits
	case ed25519.PublicKey:
		return alg == string(jose.EdDSA) || alg == Ed25519
	}
	return false
}

// numericDate reads an RFC 7519 NumericDate (seconds since the epoch, which
// may have a fraction); ok is false when it is absent or absurd.
func numericDate(v *float64) (time.Time, bool) {
	if v == nil || !(*v > 0 && *v < 1<<40) {
		return time.Time{}, false
	}
	sec, frac := math.Modf(*v)
	return time.Unix(int64(sec), int64(frac*1e9)), true
}

// canonicalBase64URL reports whether s is base64url without padding in its
// one canonical form: only the alphabet, a length that encodes whole bytes,
// and zero bits after the last byte (RFC 4648 §3.5). A decoder that ignores
// those bits would accept several strings for one value.
func canonicalBase64URL(s string) bool {
	var last byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z':
			last = c - 'A'
		case 'a' <= c && c <= 'z':
			last = c - 'a' + 26
		case '0' <= c && c <= '9':
			last = c - '0' + 52
		case c == '-':
			last = 62
		case c == '_':
			last = 63
		default:
			return false
		}
	}
	switch len(s) % 4 {
	case 1:
		return false
	case 2:
		return last&0x0f == 0
	case 3:
		return last&0x03 == 0
	}
	return true
}

// ed25519Verifier checks signatures named Ed25519 (RFC 9864), which go-jose
// does not know, as go-jose's own EdDSA verifier checks those named EdDSA.
// It is a struct, not a named byte slice, so that go-jose can only take it
// for the OpaqueVerifier it is, never for an HMAC key.
type ed25519Verifier struct{ key ed25519.PublicKey }

var errEd25519 = errors.New("dpop: ed25519 signature does not verify")

func (k ed25519Verifier) VerifyPayload(payload, signature []byte, alg jose.SignatureAlgorithm) error {
	if alg != Ed25519 {
		return jose.ErrUnsupportedAlgorithm
	}
	if !ed25519.Verify(k.key, payload, signature) {
		return errEd25519
	}
	return nil
}
