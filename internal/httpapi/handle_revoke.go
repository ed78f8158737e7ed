package httpapi

import (
	"net/http"
)

func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	origin := s.crossOrigin(w, r)
	f, cr, err := s.formRequest(r)
	if err != nil {
		s.shareFailure(w, r, origin)
		writeError(w, r, s.log, err)
		return
	}
	client, err := s.tokens.AuthenticateClient(r.Context(), cr)
	if err != nil {
		s.shareFailure(w, r, origin)
		writeError(w, r, s.log, err)
		return
	}
	SetClientID(r.Context(), client.ID)
	if err := allowClientOrigin(w, client, origin); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if err := s.authenticated(r, client); err != nil {
		writeError(w, r, s.log, err)
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
