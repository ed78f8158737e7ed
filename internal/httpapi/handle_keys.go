package httpapi

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
)

func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) {
	doc := s.keys.JWKS()
	sum := sha256.Sum256(doc)
	etag := `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`
	h := w.Header()
	h.Set("Content-Type", "application/jwk-set+json")
	h.Set("Cache-Control", "public, max-age="+itoa(s.opts.JWKSMaxAge))
	h.Set("ETag", etag)
	h["Access-Control-Allow-Origin"] = hdrAnyOrigin
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(doc)
}
