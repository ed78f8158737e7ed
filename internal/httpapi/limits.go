package httpapi

import (
	"net/http"

	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/token"
)

// limitIP refuses an address over its request budget before any other work.
// Health probes are exempt: an orchestrator must always reach them.
func (s *Server) limitIP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" && r.URL.Path != "/readyz" {
			if err := s.opts.Limits.AllowIP(r.Context(), s.opts.ClientIPs.Of(r)); err != nil {
				writeError(w, r, s.log, err)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// checkIntrospection refuses a caller out of inactive answers (enumeration).
func (s *Server) checkIntrospection(r *http.Request, caller *oauth.Client) error {
	if s.opts.Limits == nil {
		return nil
	}
	return s.opts.Limits.AllowIntrospection(r.Context(), caller.ID, s.opts.ClientIPs.Of(r))
}

// countInactive charges a caller for the inactive answers it got.
func (s *Server) countInactive(r *http.Request, caller *oauth.Client, infos ...*token.Info) {
	if s.opts.Limits == nil {
		return
	}
	n := 0
	for _, i := range infos {
		if !i.Active {
			n++
		}
	}
	s.opts.Limits.Inactive(r.Context(), caller.ID, n)
}
