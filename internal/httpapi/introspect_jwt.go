package httpapi

import (
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/authd/authd/internal/token"
)

const mediaIntrospectionJWT = "application/" + token.TypeIntrospectionJWT

// wantsIntrospectionJWT reports whether the Accept header asks for an
// RFC 9701 response (§4): the media type listed with a non-zero weight.
// Anything else, or no Accept at all, gets the RFC 7662 JSON.
func wantsIntrospectionJWT(r *http.Request) bool {
	for _, line := range r.Header.Values("Accept") {
		for _, item := range strings.Split(line, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(item))
			if err != nil || mt != mediaIntrospectionJWT {
				continue
			}
			if q, ok := params["q"]; ok {
				if w, err := strconv.ParseFloat(q, 64); err != nil || w <= 0 {
					continue
				}
			}
			return true
		}
	}
	return false
}

// writeIntrospectionJWT answers with info signed for the introspecting
// client (RFC 9701 §5). Errors before this point stay RFC 7662 JSON (§5:
// only a successful response is a JWT).
func (s *Server) writeIntrospectionJWT(w http.ResponseWriter, r *http.Request, callerID string, info *token.Info) {
	jwt, err := s.opts.SignIntrospection(info, callerID)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", mediaIntrospectionJWT)
	h["Cache-Control"] = hdrNoStore
	h["Pragma"] = hdrNoCache
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(jwt))
}
