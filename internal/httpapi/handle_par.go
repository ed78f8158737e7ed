package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/authd/authd/internal/oauth"
)

// PathPAR is the pushed authorization request endpoint (RFC 9126 §2),
// relative to the issuer.
const PathPAR = "/oauth2/par"

// PushedAuthorizations validates and stores pushed authorization requests;
// the browser flow (login.Handler) implements it, since it is what later
// resolves them.
type PushedAuthorizations interface {
	// Push validates params as an authorization request of client and
	// stores them; it returns the request_uri and its lifetime. dpopJKT is
	// the thumbprint of the request's DPoP proof, "" without one. Errors are
	// *oauth.Error or failures of the store.
	Push(ctx context.Context, client *oauth.Client, params url.Values, dpopJKT string) (requestURI string, lifetime time.Duration, err error)
}

// PAR configures the pushed authorization request endpoint.
type PAR struct {
	Requests PushedAuthorizations
	// Required is advertised as require_pushed_authorization_requests
	// (RFC 9126 §5): the authorization endpoint takes pushed requests only.
	Required bool
}

// clientAuthParams are the parameters that authenticate the client at the
// endpoint itself; they are not part of the authorization request pushed.
var clientAuthParams = map[string]bool{"client_secret": true, "client_assertion": true, "client_assertion_type": true}

// parResponse is RFC 9126 §2.2.
type parResponse struct {
	RequestURI string `json:"request_uri"`
	ExpiresIn  int    `json:"expires_in"`
}

// handlePAR is RFC 9126 §2: the client authenticates as it would at the
// token endpoint (§2: "the same rules for client authentication as ... the
// token endpoint"), then the request is validated and stored before a
// request_uri is issued (§2.1: "MUST validate the pushed request as it would
// an authorization request").
func (s *Server) handlePAR(w http.ResponseWriter, r *http.Request) {
	origin := s.crossOrigin(w, r)
	f, cr, err := s.formRequest(r)
	if err != nil {
		s.shareFailure(w, r, origin)
		writeError(w, r, s.log, err)
		return
	}
	// RFC 9449 §10.1: a DPoP proof at PAR binds the code to its key.
	jkt, err := s.dpopProof(w, r, PathPAR, "", "")
	if err != nil {
		s.shareFailure(w, r, origin)
		writeError(w, r, s.log, err)
		return
	}
	client, ok := s.admitClient(w, r, origin, s.tokens.AuthenticateClient, cr)
	if !ok {
		return
	}
	params := make(url.Values, len(f))
	for k, v := range f {
		if !clientAuthParams[k] {
			params[k] = []string{v}
		}
	}
	uri, lifetime, err := s.opts.PAR.Requests.Push(r.Context(), client, params, jkt)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusCreated, parResponse{RequestURI: uri, ExpiresIn: int(lifetime / time.Second)})
}
