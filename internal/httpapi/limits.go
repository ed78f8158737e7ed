package httpapi

import (
	"context"
	"net/http"

	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/secevent"
	"github.com/authd/authd/internal/token"
)

// limitIP is the per-address limit, shaped by identity: before the handler it
// refuses an address already over its budget (a look that charges nothing),
// and after it charges the request only if no client proved itself in it
// (markAuthenticated). So an address that floods junk (bad secrets, unknown
// tokens, broken forms, login pages) is refused within its budget, while a
// gateway whose every request authenticates is limited per client only.
// Health probes are exempt: an orchestrator must always reach them.
func (s *Server) limitIP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			next.ServeHTTP(w, r)
			return
		}
		ip := s.opts.ClientIPs.Of(r)
		if err := s.opts.Limits.CheckIP(r.Context(), ip); err != nil {
			writeError(w, r, s.log, err)
			return
		}
		next.ServeHTTP(w, r)
		if st := stateOf(r.Context()); st == nil || !st.authenticated {
			s.opts.Limits.ChargeIP(r.Context(), ip)
		}
	})
}

// markAuthenticated records that a client proved itself in this request (a
// secret, an assertion or a certificate; a public client's bare client_id is
// not proof), or that it carried an active access token: the request is then
// the client's, and not charged to its address.
func markAuthenticated(ctx context.Context) {
	if st := stateOf(ctx); st != nil {
		st.authenticated = true
	}
}

// authenticated marks a request whose client proved itself and charges it to
// the client's budget (the token endpoint's dispatcher charges its own).
func (s *Server) authenticated(r *http.Request, c *oauth.Client) error {
	if c.Public() {
		return nil
	}
	markAuthenticated(r.Context())
	if s.opts.Limits == nil {
		return nil
	}
	return s.opts.Limits.AllowClient(r.Context(), c, s.opts.ClientIPs.Of(r))
}

// checkIntrospection refuses a caller out of inactive answers (enumeration).
func (s *Server) checkIntrospection(r *http.Request, caller *oauth.Client) error {
	if s.opts.Limits == nil {
		return nil
	}
	return s.opts.Limits.AllowIntrospection(r.Context(), caller.ID, s.opts.ClientIPs.Of(r))
}

// introspected records an introspection the caller was answered. It is the
// busiest event there is; the pipeline counts it per caller and window
// (AUTHD_AUDIT_TOKEN_EVENTS), so it costs no write here.
func (s *Server) introspected(r *http.Request, caller *oauth.Client) {
	if s.opts.Events != nil {
		s.opts.Events.Emit(secevent.Event{Type: secevent.TokenIntrospected, ClientID: caller.ID, IP: s.opts.ClientIPs.Of(r)})
	}
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
