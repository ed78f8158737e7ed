package httpapi

import (
	"net/http"

	"github.com/authd/authd/internal/oauth"
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
	origin := s.crossOrigin(w, r)
	f, cr, err := formRequest(r)
	if err != nil {
		s.shareFailure(w, r, origin)
		writeError(w, r, s.log, err)
		return
	}
	// Exchange authenticates the client without telling us who it was, so a
	// cross-origin request authenticates once more here (a cached client and
	// one SHA-256), to refuse an origin its client does not allow before the
	// grant spends a code or rotates a refresh token (see cors.go).
	var client *oauth.Client
	if origin != "" {
		c, err := s.tokens.AuthenticateClient(r.Context(), cr)
		switch {
		case err == nil:
			SetClientID(r.Context(), c.ID)
			if err := allowClientOrigin(w, c, origin); err != nil {
				writeError(w, r, s.log, err)
				return
			}
			client = c
		default:
			if _, ok := oauth.As(err); !ok {
				writeError(w, r, s.log, err)
				return
			}
			// invalid_client: Exchange fails the same way and records it.
		}
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
		// Authenticated once here already: an assertion is single-use.
		Authenticated: client,
	}
	resp, err := s.tokens.Exchange(r.Context(), req)
	if err != nil {
		if origin != "" && client == nil {
			s.shareFailure(w, r, origin)
		}
		writeError(w, r, s.log, err)
		return
	}
	// Only an authenticated client gets tokens, so the id is its own.
	SetClientID(r.Context(), cr.ClientID)
	writeJSON(w, http.StatusOK, resp)
}
