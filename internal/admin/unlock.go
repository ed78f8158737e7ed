package admin

import (
	"net/http"

	"github.com/authd/authd/internal/secevent"
)

// unlockUser is POST /admin/users/{id}/unlock: it forgets the failed logins
// counted against the user (an owner locked out by a lockout, their own or
// an attacker's), from every address and device. {id} may also be a
// username. 204 on success; 404 for an unknown user.
func (s *Server) unlockUser(w http.ResponseWriter, r *http.Request) {
	u, err := s.user(r)
	if err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	if err := s.accounts.Unlock(r.Context(), u.ID); err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	s.audit(r, secevent.Event{Type: secevent.UserUnlocked, Subject: u.ID})
	w.WriteHeader(http.StatusNoContent)
}
