package admin

import "net/http"

// unlockUser is POST /admin/users/{id}/unlock: it forgets the failed logins
// counted against the user (an owner locked out by a lockout, their own or
// an attacker's), from every address and device. {id} may also be a
// username. 204 on success; 404 for an unknown user.
func (s *Server) unlockUser(w http.ResponseWriter, r *http.Request) {
	if err := s.accounts.Unlock(r.Context(), r.PathValue("id")); err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
