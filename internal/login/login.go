package login

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/authd/authd/internal/account"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/password"
)

// Messages shown on the login form. One message for every credential
// failure, so the page does not say which accounts exist.
const (
	msgInvalidCredentials = "Invalid username or password."
	msgBusy               = "The server is busy. Please wait a moment and try again."
	msgTooManyAttempts    = "Too many sign-in attempts. Please try again later."
)

// tooManyAttempts says how long to wait, from the Retry-After the defence
// gave, rounded up to the unit a person reads it in.
func tooManyAttempts(retryAfter int) string {
	if retryAfter <= 0 {
		return msgTooManyAttempts
	}
	n, unit := retryAfter, "second"
	switch {
	case retryAfter > 90*60:
		n, unit = (retryAfter+3599)/3600, "hour"
	case retryAfter > 90:
		n, unit = (retryAfter+59)/60, "minute"
	}
	if n != 1 {
		unit += "s"
	}
	return "Too many sign-in attempts. Try again in " + strconv.Itoa(n) + " " + unit + "."
}

// pNext names the page of ours a sign-in that is not part of an
// authorization returns to.
const pNext = "next"

// nextPage returns v's next parameter if it is one of the pages a sign-in may
// return to, else "": only our own paths, from a fixed list, so the login
// form is no open redirector.
func nextPage(v url.Values) string {
	if next, ok := single(v, pNext); ok && (next == PathAccountPassword || isDeviceNext(next)) {
		return next
	}
	return ""
}

// renderLogin draws the login form, carrying req (nil for a sign-in that is
// not part of an authorization) or else next (see nextPage) in hidden
// fields. The password is never echoed; the username is, when it is short
// and printable.
func (h *Handler) renderLogin(w http.ResponseWriter, r *http.Request, status int, req *authRequest, next, username, errMsg string) {
	if len(username) > 256 || !printable(username) {
		username = ""
	}
	d := &pageData{
		Title:    "Sign in",
		Username: username,
		Error:    errMsg,
		CSRF:     h.csrfToken(h.csrfCookieValue(w, r), purposeLogin, "", h.now()),
	}
	switch {
	case req != nil:
		d.ClientName = clientName(req.Client)
		d.Hidden = hiddenFields(req.params)
		if d.Username == "" {
			d.Username = req.LoginHint
		}
	case next != "":
		d.Hidden = []hiddenField{{Name: pNext, Value: next}}
	}
	h.render(w, r, status, "login", d)
}

func clientName(c *oauth.Client) string {
	if oauth.IsClientIDURL(c.ID) {
		// A client known by its metadata document names itself: the
		// user sees whose site vouches for that name
		// (draft-ietf-oauth-client-id-metadata-document-01, security
		// considerations: show the client_id's host, not only its name).
		host := c.ID
		if u, err := url.Parse(c.ID); err == nil {
			host = u.Host
		}
		if c.Name == "" {
			return host
		}
		return c.Name + " (" + host + ")"
	}
	if c.Name != "" {
		return c.Name
	}
	return c.ID
}

// handleLoginPage shows the login form, for an authorization request in the
// query or on its own.
func (h *Handler) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	v, err := readParams(w, r)
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	var req *authRequest
	if _, present := v[pClientID]; present {
		var ok bool
		if req, ok = h.validate(w, r, v); !ok {
			return
		}
	}
	h.renderLogin(w, r, http.StatusOK, req, nextPage(v), "", "")
}

// handleLogin checks the form's CSRF token before anything else (no password
// is verified for a forged form), re-validates the authorization request it
// carries, authenticates, starts a session and continues the authorization.
func (h *Handler) handleLogin(w http.ResponseWriter, r *http.Request) {
	v, err := readParams(w, r)
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	f, err := formFields(v, csrfField, "username", "password")
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	token, username, pw := f[0], f[1], f[2]
	if !h.checkCSRF(r, token, purposeLogin, "", 0) {
		h.renderForbidden(w, r)
		return
	}
	var req *authRequest
	next := ""
	if _, present := v[pClientID]; present {
		var ok bool
		if req, ok = h.validate(w, r, v); !ok {
			return
		}
	} else {
		next = nextPage(v)
	}
	u, err := h.accounts.Authenticate(h.attemptContext(r, username), username, pw)
	if err != nil {
		var oe *oauth.Error
		switch {
		case errors.Is(err, account.ErrInvalidCredentials):
			h.renderLogin(w, r, http.StatusUnauthorized, req, next, username, msgInvalidCredentials)
		case errors.Is(err, password.ErrBusy):
			// Not the user's fault, and retrying soon may work: 503, and the
			// form again so they need not start over.
			w.Header().Set("Retry-After", "1")
			h.renderLogin(w, r, http.StatusServiceUnavailable, req, next, username, msgBusy)
		case errors.As(err, &oe):
			h.renderLogin(w, r, refused(w, oe), req, next, username, tooManyAttempts(oe.RetryAfter))
		default:
			h.renderError(w, r, err)
		}
		return
	}
	sess, err := h.startSession(r.Context(), w, r, u)
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	h.rememberDevice(w, r, u)
	switch {
	case req != nil:
		h.proceed(w, r, req, sess, true)
	case next != "":
		noStore(w)
		w.Header().Set("Location", next)
		w.WriteHeader(http.StatusSeeOther)
	default:
		h.renderMessage(w, r, http.StatusOK, "Signed in", "You are signed in as "+u.Username+".", linkChangePassword, linkSignOut)
	}
}

// attemptContext carries what the brute-force defences attribute a password
// check to: the client address and, when its cookie is valid for the
// username, the browser's device.
func (h *Handler) attemptContext(r *http.Request, username string) context.Context {
	ctx := account.WithClientIP(r.Context(), h.clientIP(r))
	return h.withTrustedDevice(r, ctx, username)
}

// refused sets Retry-After for a brute-force defence's refusal
// (account.Guard) and returns the status to answer with.
func refused(w http.ResponseWriter, oe *oauth.Error) int {
	status := oe.Status
	if status < 400 {
		status = http.StatusTooManyRequests
	}
	if oe.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(oe.RetryAfter))
	}
	return status
}

// renderForbidden answers a form whose CSRF token is missing, wrong or
// expired. Nothing was done.
func (h *Handler) renderForbidden(w http.ResponseWriter, r *http.Request) {
	h.renderMessage(w, r, http.StatusForbidden, "Form expired",
		"This form has expired or was not sent from this site. Go back to the application and try again.")
}
