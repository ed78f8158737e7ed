package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/authd/authd/internal/dpop"
	"github.com/authd/authd/internal/oauth"
)

// DPoP configures proof-of-possession tokens (RFC 9449); nil in Options
// ignores DPoP headers and issues bearer tokens only.
type DPoP struct {
	// Replay records proofs' jti across replicas (package replay); required.
	Replay dpop.ReplayCache
	// Nonces, when set, requires server-supplied nonces (RFC 9449 §8, §9):
	// every response carries the current one in DPoP-Nonce.
	Nonces *dpop.Nonces
	// Algorithms allowed for proofs; nil: every one package dpop supports.
	Algorithms []string
}

func (d *DPoP) algorithms() []string {
	if d.Algorithms != nil {
		return d.Algorithms
	}
	return dpop.SupportedAlgorithms()
}

// dpopProof verifies the request's DPoP proof, if it has one, for the
// endpoint at path (htu is authd's public URL of it, whatever address the
// request came to through proxies). bound is the key a presented token is
// bound to ("" none) and accessToken the token for ath ("" at the token
// endpoint). It returns the proof's key thumbprint, "" without a proof.
func (s *Server) dpopProof(w http.ResponseWriter, r *http.Request, path, accessToken, bound string) (string, error) {
	p, err := s.verifyDPoP(w, r, path, accessToken, bound)
	if p == nil || err != nil {
		return "", err
	}
	return p.JKT, nil
}

// verifyDPoP is dpopProof with the whole proof (nil without one).
func (s *Server) verifyDPoP(w http.ResponseWriter, r *http.Request, path, accessToken, bound string) (*dpop.Proof, error) {
	d := s.opts.DPoP
	if d == nil {
		return nil, nil
	}
	now := s.now()
	if d.Nonces != nil {
		// RFC 9449 §8: the nonce to use next, on every response.
		w.Header().Set(dpop.NonceHeaderName, d.Nonces.Current(now))
	}
	proof, err := dpop.ProofHeader(r.Header)
	if err != nil {
		return nil, dpopError(err)
	}
	if proof == "" {
		return nil, nil
	}
	opts := dpop.Options{Algorithms: d.Algorithms}
	if d.Nonces != nil {
		opts.Nonces = d.Nonces
	}
	p, err := dpop.Verify(proof, dpop.Request{Method: r.Method, URI: s.opts.Issuer + path, Now: now, AccessToken: accessToken, JKT: bound}, opts)
	if err != nil {
		return nil, dpopError(err)
	}
	if err := dpop.CheckReplay(r.Context(), d.Replay, p); err != nil {
		return nil, dpopError(err)
	}
	return p, nil
}

// dpopError maps a refused proof to RFC 9449 §5 / §8 errors (400 at the
// token endpoint; resource endpoints re-send them as 401 with a DPoP
// challenge), and a replay cache that cannot decide to 503.
func dpopError(err error) error {
	var de *dpop.Error
	if errors.As(err, &de) {
		return &oauth.Error{Code: de.Code, Description: de.Description, Status: http.StatusBadRequest}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return oauth.TemporarilyUnavailable("proof-of-possession checks are unavailable; retry shortly", 1)
}

// authorizationToken reads an access token from Authorization, with the
// scheme it came with: "Bearer" (RFC 6750 §2.1) or "DPoP" (RFC 9449 §7.1).
func authorizationToken(r *http.Request) (scheme, tok string, ok bool) {
	h := r.Header.Get("Authorization")
	for _, sc := range []string{"Bearer", "DPoP"} {
		if len(h) > len(sc)+1 && strings.EqualFold(h[:len(sc)+1], sc+" ") {
			return sc, strings.TrimSpace(h[len(sc)+1:]), true
		}
	}
	return "", "", false
}
