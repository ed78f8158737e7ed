package login

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"github.com/authd/authd/internal/store"
)

// The session cookie holds 256 random bits; the store holds only their
// SHA-256, so a leaked database row cannot be replayed as a cookie.
const sessionCookie = "authd_session"

// hostPrefix is the cookie-name prefix a browser only accepts on a cookie
// that is Secure, has Path=/ and no Domain, set by a secure origin
// (RFC 6265bis §4.1.3.2). A sibling subdomain or a plain-http page on the
// same host cannot then set, or shadow, one of our cookies: no session
// fixation, no CSRF cookie tossing. Browsers only honour it over https, so
// a plain-http issuer (local development) keeps the bare names.
const hostPrefix = "__Host-"

// cookieNames are the names of our cookies under one issuer.
type cookieNames struct {
	session, csrf, device string
	// legacySession and legacyCSRF are the bare names, which an https issuer
	// used before the prefix; "" for a plain-http issuer, which still does.
	legacySession, legacyCSRF string
}

func namesFor(secure bool) cookieNames {
	if !secure {
		return cookieNames{session: sessionCookie, csrf: csrfCookie, device: deviceCookie}
	}
	return cookieNames{
		session: hostPrefix + sessionCookie, csrf: hostPrefix + csrfCookie, device: hostPrefix + deviceCookie,
		legacySession: sessionCookie, legacyCSRF: csrfCookie,
	}
}

// session is a live login: the stored record and its user, who exists and is
// not disabled.
type session struct {
	hash []byte
	rec  *store.Session
	user *store.User
}

// cookie builds one of our cookies: HttpOnly (no script needs them), SameSite
// Lax (not sent on cross-site POSTs, the CSRF vector, but sent on the
// top-level GET by which a client sends the user here), host-only with
// Path=/, and Secure when the issuer is https: all that the __Host- prefix
// demands. maxAge 0 makes a browser-session cookie; negative deletes it.
func (h *Handler) cookie(name, value string, maxAge time.Duration) *http.Cookie {
	c := &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		HttpOnly: true,
		Secure:   h.secure,
		SameSite: http.SameSiteLaxMode,
	}
	switch {
	case maxAge > 0:
		c.MaxAge = int(maxAge / time.Second)
	case maxAge < 0:
		c.MaxAge = -1
	}
	return c
}

// randomCookie returns the value of cookie name if it has the shape of our
// random tokens (base64url of 32 bytes), so nothing else reaches the store.
func randomCookie(r *http.Request, name string) (string, bool) {
	c, err := r.Cookie(name)
	if err != nil || len(c.Value) != 43 {
		return "", false
	}
	if _, err := base64.RawURLEncoding.DecodeString(c.Value); err != nil {
		return "", false
	}
	return c.Value, true
}

func hashToken(v string) []byte {
	h := sha256.Sum256([]byte(v))
	return h[:]
}

// sessionCookieValue returns the browser's session cookie value and whether
// it came under the legacy (unprefixed) name.
func (h *Handler) sessionCookieValue(r *http.Request) (v string, legacy, ok bool) {
	if v, ok := randomCookie(r, h.names.session); ok {
		return v, false, true
	}
	if h.names.legacySession == "" {
		return "", false, false
	}
	if _, err := r.Cookie(h.names.session); err == nil {
		return "", false, false // a prefixed cookie, if malformed, wins
	}
	v, ok = randomCookie(r, h.names.legacySession)
	return v, true, ok
}

// currentSession returns the browser's live session, or nil when there is
// none: no cookie, unknown, expired, or its user since deleted or disabled
// (a disabled account's sessions stop working at once). Errors are store
// failures.
//
// A session under the legacy cookie name is honoured only if it began before
// this handler was built: it was issued before the upgrade to __Host- names
// and lives out its lifetime, while a session value planted under the bare
// name later (which anyone who can set a cookie for a sibling domain could
// do, with a session of their own) is refused.
func (h *Handler) currentSession(ctx context.Context, r *http.Request) (*session, error) {
	v, legacy, ok := h.sessionCookieValue(r)
	if !ok {
		return nil, nil
	}
	hash := hashToken(v)
	rec, err := h.sessions.Session(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !h.now().Before(rec.ExpiresAt) || legacy && !rec.AuthTime.Before(h.started) {
		return nil, nil
	}
	u, err := h.accounts.User(ctx, rec.Subject)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, nil
	}
	return &session{hash: hash, rec: rec, user: u}, nil
}

// startSession stores a new session for u and sets its cookie, first
// deleting the browser's previous session (its relying parties told): a login always gets a fresh
// identifier (no session fixation) and never leaves the old one usable.
func (h *Handler) startSession(ctx context.Context, w http.ResponseWriter, r *http.Request, u *store.User) (*session, error) {
	// The session replaced ends: its relying parties hold its sid.
	if _, err := h.sessionEnding(ctx, r); err != nil {
		return nil, err
	}
	if err := h.endSession(ctx, w, r); err != nil {
		return nil, err
	}
	v := h.randomToken(32)
	now := h.now()
	rec := &store.Session{
		Hash:      hashToken(v),
		Subject:   u.ID,
		AuthTime:  now,
		ExpiresAt: now.Add(h.sessionTTL),
	}
	if err := h.sessions.CreateSession(ctx, rec); err != nil {
		return nil, err
	}
	http.SetCookie(w, h.cookie(h.names.session, v, h.sessionTTL))
	return &session{hash: rec.Hash, rec: rec, user: u}, nil
}

// endSession deletes the browser's sessions, under either cookie name, and
// clears a legacy-named cookie; the caller sets or clears the current one.
// Errors are store failures.
func (h *Handler) endSession(ctx context.Context, w http.ResponseWriter, r *http.Request) error {
	for _, name := range []string{h.names.session, h.names.legacySession} {
		if name == "" {
			continue
		}
		if old, ok := randomCookie(r, name); ok {
			if err := h.sessions.DeleteSession(ctx, hashToken(old)); err != nil {
				return err
			}
		}
	}
	h.clearLegacy(w, r, h.names.legacySession)
	return nil
}

// clearLegacy deletes a cookie under a legacy name, if the browser sent one.
func (h *Handler) clearLegacy(w http.ResponseWriter, r *http.Request, name string) {
	if name == "" {
		return
	}
	if _, err := r.Cookie(name); err == nil {
		http.SetCookie(w, h.cookie(name, "", -1))
	}
}

// randomToken is n random bytes, base64url.
func (h *Handler) randomToken(n int) string {
	b := make([]byte, n)
	h.random(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
