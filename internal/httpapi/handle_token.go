package httpapi

import (
	"net/http"

	"github.com/authd/authd/internal/token"
)

// formRequest parses a form body and the client credentials it carries.
func formRequest(r *http.Request) (form, token.Credentials, error) {
	f, err := parseForm(r)
	if err != nil {
		return nil, token.Credentials{}, err
	}
	cr, err := clientCredentials(r, f)
	return f, cr, err
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	f, cr, err := formRequest(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	req := &token.Request{
		GrantType:    f["grant_type"],
		Credentials:  cr,
		Scope:        f["scope"],
		Code:         f["code"],
		RedirectURI:  f["redirect_uri"],
		CodeVerifier: f["code_verifier"],
		RefreshToken: f["refresh_token"],
		Username:     f["username"],
		Password:     f["password"],
		ClientIP:     s.opts.ClientIPs.Of(r),
	}
	resp, err := s.tokens.Exchange(r.Context(), req)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}
