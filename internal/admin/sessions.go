package admin

import (
	"net/http"

	"github.com/authd/authd/internal/secevent"
)

// endUserSessions is DELETE /admin/users/{id}/sessions: it signs the user out
// of every browser session, and every relying party that took part in one
// is sent a logout token (OpenID Connect Back-Channel Logout 1.0). Tokens
// already issued are not revoked: disable the user or reset the password
// for that. {id} may also be a username. 204 on success (also when there
// was no session); 404 for an unknown user.
func (s *Server) endUserSessions(w http.ResponseWriter, r *http.Request) {
	u, err := s.user(r)
	if err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	if err := s.accounts.EndSessions(r.Context(), u.ID); err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	s.audit(r, secevent.Event{Type: secevent.UserSessionsEnded, Subject: u.ID})
	w.WriteHeader(http.StatusNoContent)
}
