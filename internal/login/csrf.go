package login

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// CSRF defence: a double-submit token that cannot be forged. Each browser gets
// a random cookie (authd_csrf, __Host-authd_csrf under an https issuer); a
// form carries a token that is the HMAC-SHA256, under a server key, of that
// cookie, the form's purpose and anything the form is bound to. A cross-site
// page can make the browser send the cookie but can neither read it nor
// compute the token (OWASP CSRF Cheat Sheet, "signed double-submit cookie").
// The purpose keeps a login token from serving as a consent token.
const (
	csrfCookie = "authd_csrf"
	csrfField  = "csrf_token"
)

// Form purposes.
const (
	purposeLogin   = "login"
	purposeConsent = "consent"
	purposeLogout  = "logout"
	// purposePassword is the password change form, bound to the session.
	purposePassword = "password"
)

// consentTicketTTL bounds how long a consent form stays valid. The consent
// token is also bound to the session that passed the login checks (prompt,
// max_age) when the form was drawn; those checks are not repeated on submit,
// so the form must not live long.
const consentTicketTTL = 10 * time.Minute

// csrfCookieValue returns the browser's CSRF cookie value, setting a new
// random one when it has none (or a malformed one).
//
// Under an https issuer the cookie is read under its __Host- name only, never
// the bare name it had before: the defence rests on an attacker being unable
// to set the cookie, and the bare name is one that a sibling subdomain can
// set (cookie tossing). A form drawn before the upgrade therefore fails once
// with "form expired", and the next one works.
func (h *Handler) csrfCookieValue(w http.ResponseWriter, r *http.Request) string {
	if v, ok := randomCookie(r, h.names.csrf); ok {
		return v
	}
	v := h.randomToken(32)
	http.SetCookie(w, h.cookie(h.names.csrf, v, 0))
	h.clearLegacy(w, r, h.names.legacyCSRF)
	return v
}

// csrfToken is "<unix time>.<mac>". The time is covered by the MAC, so a
// purpose with a lifetime (consent) can enforce it.
func (h *Handler) csrfToken(cookie, purpose, binding string, at time.Time) string {
	ts := strconv.FormatInt(at.Unix(), 10)
	return ts + "." + base64.RawURLEncoding.EncodeToString(h.csrfMAC(cookie, purpose, binding, ts))
}

func (h *Handler) csrfMAC(cookie, purpose, binding, ts string) []byte {
	m := hmac.New(sha256.New, h.csrfKey)
	// NUL separators: no field can contain one (cookie and timestamp are
	// base64url and digits; purpose and binding are ours).
	m.Write([]byte("authd-csrf\x00" + purpose + "\x00" + binding + "\x00" + ts + "\x00" + cookie))
	return m.Sum(nil)
}

// checkCSRF reports whether token is valid for the request's CSRF cookie,
// purpose and binding, and, when maxAge > 0, no older than maxAge. The MAC is
// compared in constant time.
func (h *Handler) checkCSRF(r *http.Request, token, purpose, binding string, maxAge time.Duration) bool {
	cookie, ok := randomCookie(r, h.names.csrf)
	if !ok || len(token) > 64 {
		return false
	}
	ts, mac64, ok := strings.Cut(token, ".")
	if !ok || !digits(ts) || len(ts) > 12 {
		return false
	}
	mac, err := base64.RawURLEncoding.DecodeString(mac64)
	if err != nil || !hmac.Equal(mac, h.csrfMAC(cookie, purpose, binding, ts)) {
		return false
	}
	if maxAge > 0 {
		sec, _ := strconv.ParseInt(ts, 10, 64)
		age := h.now().Sub(time.Unix(sec, 0))
		// A little slack for clocks that differ between replicas.
		if age > maxAge || age < -time.Minute {
			return false
		}
	}
	return true
}
