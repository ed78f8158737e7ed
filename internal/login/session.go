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

// session is a live login: the stored record and its user, who exists and is
// not disabled.
type session struct {
	hash []byte
	rec  *store.Session
	user *store.User
}

// cookie builds one of our cookies: HttpOnly (no script needs them), SameSite
// Lax (not sent on cross-site POSTs, the CSRF vector, but sent on the
// top-level GET by which a client sends the user here), host-only, and
// Secure when the issuer is https. maxAge 0 makes a browser-session cookie;
// negative deletes it.
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

// currentSession returns the browser's live session, or nil when there is
// none: no cookie, unknown, expired, or its user since deleted or disabled
// (a disabled account's sessions stop working at once). Errors are store
// failures.
func (h *Handler) currentSession(ctx context.Context, r *http.Request) (*session, error) {
	v, ok := randomCookie(r, sessionCookie)
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
	if !h.now().Before(rec.ExpiresAt) {
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
// deleting the browser's previous session: a login always gets a fresh
// identifier (no session fixation) and never leaves the old one usable.
func (h *Handler) startSession(ctx context.Context, w http.ResponseWriter, r *http.Request, u *store.User) (*session, error) {
	if old, ok := randomCookie(r, sessionCookie); ok {
		if err := h.sessions.DeleteSession(ctx, hashToken(old)); err != nil {
			return nil, err
		}
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
	http.SetCookie(w, h.cookie(sessionCookie, v, h.sessionTTL))
	return &session{hash: rec.Hash, rec: rec, user: u}, nil
}

// randomToken is n random bytes, base64url.
func (h *Handler) randomToken(n int) string {
	b := make([]byte, n)
	h.random(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
