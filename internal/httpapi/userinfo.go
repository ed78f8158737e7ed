package httpapi

import (
	"net/http"
	"strings"

	"github.com/authd/authd/internal/dpop"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/token"
)

// handleUserInfo is OpenID Connect Core §5.3: GET or POST with a bearer token.
//
// The caller is a bearer token, not a client, so a script may read the answer
// if some client allows its origin. Userinfo changes nothing, so a request from
// any other origin is answered too, without CORS headers: the browser keeps it
// from the script (Fetch), and callers without an Origin are unaffected.
func (s *Server) handleUserInfo(w http.ResponseWriter, r *http.Request) {
	if origin := s.crossOrigin(w, r); origin != "" && s.anyClientAllows(r, origin) {
		allowOrigin(w, origin)
	}
	held := token.Possession{Scheme: "Bearer"}
	var tok string
	var err error
	if scheme, t, ok := authorizationToken(r); ok && scheme == "DPoP" && s.opts.DPoP != nil {
		// RFC 9449 §7.1: the token with the DPoP scheme, and a proof whose
		// ath is its hash.
		tok, held.Scheme = t, "DPoP"
		if held.DPoPJKT, err = s.dpopProof(w, r, PathUserInfo, tok, ""); err == nil && held.DPoPJKT == "" {
			err = &oauth.Error{Code: dpop.CodeInvalidProof, Description: "a DPoP proof is required with the DPoP scheme", Status: http.StatusBadRequest}
		}
		if err != nil {
			s.writeDPoPError(w, r, err)
			return
		}
	} else if tok, err = bearerToken(r); err != nil {
		s.writeBearerError(w, r, err)
		return
	}
	held.CertThumbprint = certThumbprint(s.clientCert(r))
	info, err := s.tokens.UserInfo(r.Context(), tok, held)
	if err != nil {
		s.writeBearerError(w, r, err)
		return
	}
	// An active token is proof enough: the request is its client's, not
	// its address's (limits.go).
	markAuthenticated(r.Context())
	writeJSON(w, http.StatusOK, info)
}

// bearerToken reads an RFC 6750 bearer token from the Authorization header or,
// for a form POST, the access_token parameter (§2.2). Query parameters are not
// accepted (§2.3 is discouraged: URLs end up in logs).
func bearerToken(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	var fromForm string
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		f, err := parseForm(r)
		if err != nil {
			return "", err
		}
		fromForm = f["access_token"]
	}
	switch {
	case h != "" && fromForm != "":
		return "", oauth.InvalidRequest("send the access token only once")
	case fromForm != "":
		return fromForm, nil
	case h == "":
		// RFC 6750 §3.1: no error code when no credentials were sent.
		return "", &oauth.Error{Status: http.StatusUnauthorized}
	}
	const prefix = "bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", oauth.InvalidToken("the Authorization header must be a Bearer token")
	}
	return strings.TrimSpace(h[len(prefix):]), nil
}

// writeBearerError answers a protected-resource request per RFC 6750 §3, with
// WWW-Authenticate carrying the error.
func (s *Server) writeBearerError(w http.ResponseWriter, r *http.Request, err error) {
	e, ok := oauth.As(err)
	if ok && (e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden) {
		v := `Bearer realm="authd"`
		if e.Code != "" {
			v += `, error="` + e.Code + `"`
		}
		w.Header().Set("WWW-Authenticate", v)
		if e.Code == "" {
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
	}
	writeError(w, r, s.log, err)
}

// writeDPoPError answers a protected-resource request whose proof was
// refused: 401 with a DPoP challenge naming the error and the algorithms
// accepted (RFC 9449 §7.1, §9), or whatever else went wrong.
func (s *Server) writeDPoPError(w http.ResponseWriter, r *http.Request, err error) {
	e, ok := oauth.As(err)
	if !ok || (e.Code != dpop.CodeInvalidProof && e.Code != dpop.CodeUseNonce) {
		writeError(w, r, s.log, err)
		return
	}
	w.Header().Set("WWW-Authenticate", `DPoP error="`+e.Code+`", algs="`+strings.Join(s.opts.DPoP.algorithms(), " ")+`"`)
	writeJSON(w, http.StatusUnauthorized, errorBody{Error: e.Code, Description: e.Description})
}
