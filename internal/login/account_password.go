package login

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/authd/authd/internal/account"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/password"
	"github.com/authd/authd/internal/secevent"
	"github.com/authd/authd/internal/store"
)

// Self-service password change at PathAccountPassword. The user proves the
// current password again (a session can be borrowed: an unlocked computer, a
// stolen cookie), and that proof is a login like any other, counted by the
// brute-force defences. Changing the password ends every other session and
// every token of the user, so whoever else holds one is out, while this
// browser, which just proved the password, stays signed in.

// Messages of the password form.
const (
	msgWrongPassword     = "Your current password is not correct."
	msgPasswordsMismatch = "The new passwords do not match."
	msgPasswordsMissing  = "Enter your current password and the new one twice."
	msgPasswordChanged   = "Your password has been changed. This browser is still signed in; every other browser and app signed in to your account has been signed out."
)

// handlePasswordPage shows the form to a signed-in user and sends anyone
// else to sign in first, and back here after.
func (h *Handler) handlePasswordPage(w http.ResponseWriter, r *http.Request) {
	sess, err := h.currentSession(r.Context(), r)
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	if sess == nil {
		h.signInFirst(w)
		return
	}
	h.renderPassword(w, r, http.StatusOK, sess, "")
}

// signInFirst sends the browser to the login form, which returns here.
func (h *Handler) signInFirst(w http.ResponseWriter) {
	noStore(w)
	w.Header().Set("Location", PathLogin+"?"+url.Values{pNext: {PathAccountPassword}}.Encode())
	w.WriteHeader(http.StatusSeeOther)
}

func (h *Handler) renderPassword(w http.ResponseWriter, r *http.Request, status int, sess *session, errMsg string) {
	h.render(w, r, status, "password", &pageData{
		Title:    "Change password",
		Username: sess.user.Username,
		Error:    errMsg,
		CSRF:     h.csrfToken(h.csrfCookieValue(w, r), purposePassword, sessionBinding(sess), h.now()),
	})
}

// handlePassword takes the form. Its CSRF token is bound to the session, so
// a form drawn for another session (or user) is refused before any password
// is checked.
func (h *Handler) handlePassword(w http.ResponseWriter, r *http.Request) {
	v, err := readParams(w, r)
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	f, err := formFields(v, csrfField, "current_password", "new_password", "new_password2")
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	token, current, pw, again := f[0], f[1], f[2], f[3]
	sess, err := h.currentSession(r.Context(), r)
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	if sess == nil {
		// Signed out while the form was open: nothing is changed, and the
		// passwords typed are not kept anywhere.
		h.signInFirst(w)
		return
	}
	if !h.checkCSRF(r, token, purposePassword, sessionBinding(sess), 0) {
		h.renderForbidden(w, r)
		return
	}
	switch {
	case current == "" || pw == "" || again == "":
		h.renderPassword(w, r, http.StatusBadRequest, sess, msgPasswordsMissing)
		return
	case pw != again:
		h.renderPassword(w, r, http.StatusBadRequest, sess, msgPasswordsMismatch)
		return
	}
	u := sess.user
	err = h.accounts.ChangePassword(h.attemptContext(r, u.Username), u.ID, current, pw, sess.hash)
	var oe *oauth.Error
	var ie *account.InputError
	switch {
	case err == nil:
	case errors.Is(err, account.ErrInvalidCredentials):
		h.renderPassword(w, r, http.StatusUnauthorized, sess, msgWrongPassword)
		return
	case errors.Is(err, password.ErrBusy):
		w.Header().Set("Retry-After", "1")
		h.renderPassword(w, r, http.StatusServiceUnavailable, sess, msgBusy)
		return
	case errors.As(err, &oe):
		h.renderPassword(w, r, refused(w, oe), sess, tooManyAttempts(oe.RetryAfter))
		return
	case errors.As(err, &ie):
		// The policy's reason, written to be shown.
		h.renderPassword(w, r, http.StatusBadRequest, sess, ie.Reason)
		return
	case errors.Is(err, store.ErrNotFound):
		// The user was deleted since the session was read.
		h.signInFirst(w)
		return
	default:
		h.renderError(w, r, err)
		return
	}
	h.events.Emit(secevent.Event{Type: secevent.UserPasswordChanged, Subject: u.ID, IP: h.clientIP(r),
		Detail: map[string]string{"by": "self"}})
	h.renderMessage(w, r, http.StatusOK, "Password changed", msgPasswordChanged, linkSignOut)
}
