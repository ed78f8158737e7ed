package httpapi

import (
	"net/http"
	"strings"

	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/token"
)

func (s *Server) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	origin := s.crossOrigin(w, r)
	f, cr, err := s.formRequest(r)
	if err != nil {
		s.shareFailure(w, r, origin)
		writeError(w, r, s.log, err)
		return
	}
	caller, ok := s.admitClient(w, r, origin, s.tokens.AuthenticateConfidential, cr)
	if !ok {
		return
	}
	tok, ok := f["token"]
	if !ok {
		writeError(w, r, s.log, oauth.InvalidRequest("token is required"))
		return
	}
	if err := s.checkIntrospection(r, caller); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	info, err := s.tokens.IntrospectFor(r.Context(), caller.ID, tok)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	s.countInactive(r, caller, info)
	s.introspected(r, caller)
	if s.opts.SignIntrospection != nil && wantsIntrospectionJWT(r) {
		s.writeIntrospectionJWT(w, r, caller.ID, info)
		return
	}
	writeRaw(w, http.StatusOK, info.AppendJSON(make([]byte, 0, 320)))
}

type batchRequest struct {
	Tokens       []string `json:"tokens"`
	ClientID     string   `json:"client_id,omitempty"`
	ClientSecret string   `json:"client_secret,omitempty"`
}

func (s *Server) handleIntrospectBatch(w http.ResponseWriter, r *http.Request) {
	origin := s.crossOrigin(w, r)
	if !isJSON(r.Header.Get("Content-Type")) {
		s.shareFailure(w, r, origin)
		writeError(w, r, s.log, oauth.InvalidRequest("Content-Type must be application/json"))
		return
	}
	body, err := readBody(r)
	if err != nil {
		s.shareFailure(w, r, origin)
		writeError(w, r, s.log, err)
		return
	}
	var req batchRequest
	if err := parseBatchBody(body, &req); err != nil || req.Tokens == nil {
		s.shareFailure(w, r, origin)
		writeError(w, r, s.log, oauth.InvalidRequest(`body must be {"tokens":["…", …]}`))
		return
	}
	// Authenticate before looking at the size, so an anonymous caller learns
	// nothing but invalid_client.
	f := form{}
	if req.ClientSecret != "" {
		f["client_id"], f["client_secret"] = req.ClientID, req.ClientSecret
	}
	cr, err := clientCredentials(r, f)
	if err == nil {
		cr.Cert = s.clientCert(r)
	}
	if err != nil {
		s.shareFailure(w, r, origin)
		writeError(w, r, s.log, err)
		return
	}
	caller, ok := s.admitClient(w, r, origin, s.tokens.AuthenticateConfidential, cr)
	if !ok {
		return
	}
	if len(req.Tokens) > token.MaxBatch {
		writeError(w, r, s.log, oauth.InvalidRequest("at most 100 tokens per batch"))
		return
	}
	if err := s.checkIntrospection(r, caller); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	infos, err := s.tokens.IntrospectBatchFor(r.Context(), caller.ID, req.Tokens)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	s.countInactive(r, caller, infos...)
	s.introspected(r, caller)
	out := make([]byte, 0, 16+len(infos)*320)
	out = append(out, `{"results":[`...)
	for i, info := range infos {
		if i > 0 {
			out = append(out, ',')
		}
		out = info.AppendJSON(out)
	}
	writeRaw(w, http.StatusOK, append(out, ']', '}'))
}

// isJSON reports whether ct is application/json, parameters allowed; media
// types are case-insensitive (RFC 9110 §8.3.1).
func isJSON(ct string) bool {
	if len(ct) >= 16 && strings.EqualFold(ct[:16], "application/json") {
		return len(ct) == 16 || ct[16] == ';' || ct[16] == ' '
	}
	return false
}
