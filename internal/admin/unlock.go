package admin

import (
	"context"
	"net/http"
)

// Unlocker clears the brute-force counters of a user named by id or
// username; *account.Service implements it. It is asserted on Deps.Accounts
// rather than added to Accounts, so deployments wired before unlock existed
// keep compiling; the endpoint answers 404 when it is missing.
type Unlocker interface {
	// Unlock returns an error matching store.ErrNotFound for an unknown user.
	Unlock(ctx context.Context, user string) error
}

// unlockUser is POST /admin/users/{id}/unlock: it forgets the failed logins
// counted against the user (an owner locked out by a lockout, their own or
// an attacker's), from every address and device. {id} may also be a
// username. 204 on success; 404 for an unknown user.
func (s *Server) unlockUser(w http.ResponseWriter, r *http.Request) {
	u, ok := s.accounts.(Unlocker)
	if !ok {
		writeProblem(w, r, s.log, &Error{Status: http.StatusNotFound, Detail: "no such endpoint"})
		return
	}
	if err := u.Unlock(r.Context(), r.PathValue("id")); err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
