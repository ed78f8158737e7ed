package httpapi

import (
	"net/http"
)

func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	f, cr, err := formRequest(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	client, err := s.tokens.AuthenticateClient(r.Context(), cr)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if err := s.tokens.Revoke(r.Context(), client, f["token"]); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	// RFC 7009 §2.2: 200 with an empty body.
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}
