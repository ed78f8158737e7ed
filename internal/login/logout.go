package login

import (
	"net/http"
)

// handleLogoutPage asks for confirmation. A GET never signs out: a link or
// an <img> on another site must not be able to end the session.
func (h *Handler) handleLogoutPage(w http.ResponseWriter, r *http.Request) {
	d := &pageData{Title: "Sign out", CSRF: h.csrfToken(h.csrfCookieValue(w, r), purposeLogout, "", h.now())}
	// The name is a courtesy; a store failure just leaves it out.
	if sess, err := h.currentSession(r.Context(), r); err == nil && sess != nil {
		d.Username = sess.user.Username
	}
	h.render(w, r, http.StatusOK, "logout", d)
}

// handleLogout deletes the session server-side, so the cookie is worthless
// even if it survives somewhere, then clears the cookie.
func (h *Handler) handleLogout(w http.ResponseWriter, r *http.Request) {
	v, err := readParams(w, r)
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	token, err := formField(v, csrfField)
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	if !h.checkCSRF(r, token, purposeLogout, "", 0) {
		h.renderForbidden(w, r)
		return
	}
	if c, ok := randomCookie(r, sessionCookie); ok {
		if err := h.sessions.DeleteSession(r.Context(), hashToken(c)); err != nil {
			// Do not claim a sign-out that did not happen.
			h.renderError(w, r, err)
			return
		}
	}
	http.SetCookie(w, h.cookie(sessionCookie, "", -1))
	h.renderMessage(w, r, http.StatusOK, "Signed out", "You are signed out.")
}
