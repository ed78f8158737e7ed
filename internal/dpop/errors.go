package dpop

import "errors"

// Error codes a refused proof is answered with.
const (
	// CodeInvalidProof is the error code for a proof that is missing where
	// required, malformed, or fails any check: RFC 9449 §5 (token endpoint,
	// sent with 400) and §7.1 (protected resources, sent with 401 and
	// WWW-Authenticate: DPoP error="invalid_dpop_proof").
	CodeInvalidProof = "invalid_dpop_proof"
	// CodeUseNonce is the error code asking the client to retry with the
	// nonce the server sends in the DPoP-Nonce header: RFC 9449 §8
	// (authorization server, 400) and §9 (resource server, 401).
	CodeUseNonce = "use_dpop_nonce"
)

// The two classes of refusal. Every *Error matches exactly one of them with
// errors.Is, so a caller can map a refusal to its response without knowing
// the reason.
var (
	ErrInvalidProof = errors.New("dpop: " + CodeInvalidProof)
	ErrUseNonce     = errors.New("dpop: " + CodeUseNonce)
)

// Error is a refusal of a proof: the RFC 9449 error code and a description
// that is safe to show the client (it names the check that failed, never a
// value from the request). Verify returns the sentinels below, so a test or
// a metric can tell the reasons apart with errors.Is.
type Error struct {
	Code        string
	Description string
}

func (e *Error) Error() string { return "dpop: " + e.Code + ": " + e.Description }

// Is reports whether target is the class of e: ErrInvalidProof or ErrUseNonce.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrInvalidProof:
		return e.Code == CodeInvalidProof
	case ErrUseNonce:
		return e.Code == CodeUseNonce
	}
	return false
}

func invalid(desc string) *Error { return &Error{Code: CodeInvalidProof, Description: desc} }

// The reasons a proof is refused, in the order Verify checks them (RFC 9449
// §4.3). All but the nonce errors are of class ErrInvalidProof.
var (
	// ErrMultipleProofs: the request carried more than one DPoP header
	// field (§4.3 step 1). ProofHeader returns it.
	ErrMultipleProofs = invalid("more than one DPoP header")
	// ErrMalformed: not a single well-formed JWS in compact serialization
	// (§4.3 step 2), longer than Options.MaxProofLen, a header or claims
	// set that is not a JSON object of the right member types, or a JOSE
	// header authd does not process (crit, b64).
	ErrMalformed = invalid("proof is not a well-formed JWT")
	// ErrType: typ is not dpop+jwt (§4.2, §4.3 step 4).
	ErrType = invalid("typ is not dpop+jwt")
	// ErrAlgorithm: alg is not one of Options.Algorithms; never none nor a
	// MAC (§4.2, §4.3 step 5).
	ErrAlgorithm = invalid("alg is not allowed")
	// ErrKey: jwk is missing, not an asymmetric public key authd supports,
	// too small an RSA key, or not of the type alg needs (§4.2).
	ErrKey = invalid("jwk is missing or not a usable public key")
	// ErrPrivateKey: jwk carries private key material (§4.2, §4.3 step 7).
	ErrPrivateKey = invalid("jwk contains a private key")
	// ErrSignature: the signature does not verify with jwk (§4.3 step 6).
	ErrSignature = invalid("signature does not verify")
	// ErrJTI: jti is missing or longer than Options.MaxJTILen (§4.2).
	ErrJTI = invalid("jti is missing or too long")
	// ErrMethod: htm does not equal the request's method (§4.3 step 8).
	ErrMethod = invalid("htm does not match the request method")
	// ErrURI: htu does not match the request's target URI, ignoring query
	// and fragment, after normalisation (§4.3 step 9).
	ErrURI = invalid("htu does not match the request URI")
	// ErrIssuedAt: iat is missing or outside the acceptable window (§4.3
	// step 11, §11.1).
	ErrIssuedAt = invalid("iat is missing or outside the acceptable window")
	// ErrAccessTokenHash: presented with an access token, the proof's ath
	// is missing or is not the token's hash (§4.3 step 12, §7).
	ErrAccessTokenHash = invalid("ath does not match the access token")
	// ErrKeyMismatch: the proof's key is not the one the token or code is
	// bound to (§4.3 step 12, §6, §10).
	ErrKeyMismatch = invalid("proof key does not match the bound key")
	// ErrReplay: the proof (its key and jti) was seen before, within its
	// window (§11.1). CheckReplay returns it.
	ErrReplay = invalid("proof was already used")

	// ErrNonceMissing: the server requires a nonce and the proof has none
	// (§8, §9).
	ErrNonceMissing = &Error{Code: CodeUseNonce, Description: "a nonce is required"}
	// ErrNonceInvalid: the proof's nonce is not one the server issued
	// recently (§8: "does not exactly match a nonce recently supplied").
	ErrNonceInvalid = &Error{Code: CodeUseNonce, Description: "nonce is not current"}
)
