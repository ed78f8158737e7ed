package dpop

import "net/http"

// ProofHeader returns the proof a request carries in its DPoP header field:
// "" when there is none, ErrMultipleProofs when there is more than one
// (RFC 9449 §4.3 step 1: exactly one DPoP header), ErrMalformed when the one
// field is empty. A proof never contains a comma, so a field listing two
// proofs fails in Verify as malformed.
func ProofHeader(h http.Header) (string, error) {
	vs := h.Values(HeaderName)
	switch {
	case len(vs) == 0:
		return "", nil
	case len(vs) > 1:
		return "", ErrMultipleProofs
	case vs[0] == "":
		return "", ErrMalformed
	}
	return vs[0], nil
}
