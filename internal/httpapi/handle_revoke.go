package httpapi

import (
	"context"
	"net/http"

	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/token"
)

// admitClient authenticates the caller of an endpoint that takes client
// credentials (introspection, revocation, PAR) with authenticate, and then
// does what every such endpoint does with the client: names it for the
// access log, checks its CORS origin (cors.go) and marks the request
// authenticated for the per-address limit (limits.go). On false the answer
// is written.
func (s *Server) admitClient(w http.ResponseWriter, r *http.Request, origin string,
	authenticate func(context.Context, token.Credentials) (*oauth.Client, error), cr token.Credentials) (*oauth.Client, bool) {
	c, err := authenticate(r.Context(), cr)
	if err != nil {
		s.shareFailure(w, r, origin)
		writeError(w, r, s.log, err)
		return nil, false
	}
	SetClientID(r.Context(), c.ID)
	if err := allowClientOrigin(w, c, origin); err != nil {
		writeError(w, r, s.log, err)
		return nil, false
	}
	if err := s.authenticated(r, c); err != nil {
		writeError(w, r, s.log, err)
		return nil, false
	}
	return c, true
}

func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	origin := s.crossOrigin(w, r)
	f, cr, err := s.formRequest(r)
	if err != nil {
		s.shareFailure(w, r, origin)
		writeError(w, r, s.log, err)
		return
	}
	client, ok := s.admitClient(w, r, origin, s.tokens.AuthenticateClient, cr)
	if !ok {
		return
	}
	if err := s.tokens.Revoke(r.Context(), client, f["token"]); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	// RFC 7009 §2.2: 200 with an empty body.
	w.Header()["Cache-Control"] = hdrNoStore
	w.WriteHeader(http.StatusOK)
}
