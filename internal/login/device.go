package login

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/authd/authd/internal/account"
	"github.com/authd/authd/internal/store"
)

// Device cookies: a browser that has logged in to an account gets a cookie
// that names the device (128 random bits), when it was issued, and an
// HMAC-SHA256 binding both to the account's username, under a key only the
// server has. It carries no secret: it proves nothing about the person, and
// sends nothing a session could be made from. It only tells the brute-force
// defences that this browser was the owner's before, so that failures
// strangers cause on the account (its account-wide bound) do not lock it
// out, while its own failures are still bounded, per device (OWASP
// "Slow Down Online Guessing Attacks with Device Cookies"). A stolen cookie
// buys its thief a per-device budget of guesses, no more.
const (
	deviceCookie = "authd_device"
	// deviceTTL is how long a device stays trusted without logging in; each
	// login renews it. Browsers cap cookie lifetimes at 400 days
	// (RFC 6265bis §5.5), so this is what a browser keeps.
	deviceTTL = 365 * 24 * time.Hour

	deviceIDBytes = 16
	deviceIDLen   = 22 // base64url of deviceIDBytes
	deviceMACLen  = 43 // base64url of a SHA-256
	maxIssuedLen  = 12 // decimal Unix seconds, until the year 33658
)

var b64url = base64.RawURLEncoding.Strict()

// deriveDeviceKey derives the device cookies' HMAC key from the CSRF key, so
// a device cookie's MAC can never serve as a CSRF token or the reverse, and
// every replica (they share the CSRF key) accepts every other's cookies.
func deriveDeviceKey(csrfKey []byte) []byte {
	m := hmac.New(sha256.New, csrfKey)
	m.Write([]byte("authd device cookie key v1"))
	return m.Sum(nil)
}

// deviceCookieParts is a parsed device cookie, not yet verified.
type deviceCookieParts struct {
	id     string // base64url, deviceIDLen characters
	issued string // decimal Unix seconds
	mac    []byte
}

// parseDeviceCookie splits "<id>.<issued>.<mac>" and checks its shape: exact
// lengths, canonical base64url, digits without a leading zero. It accepts
// exactly what deviceCookieValue writes, so a value has one spelling.
func parseDeviceCookie(v string) (deviceCookieParts, bool) {
	var p deviceCookieParts
	if len(v) > deviceIDLen+1+maxIssuedLen+1+deviceMACLen {
		return p, false
	}
	id, rest, ok := strings.Cut(v, ".")
	if !ok || len(id) != deviceIDLen {
		return p, false
	}
	issued, mac, ok := strings.Cut(rest, ".")
	if !ok || len(issued) == 0 || len(issued) > maxIssuedLen || !digits(issued) || issued[0] == '0' || len(mac) != deviceMACLen {
		return p, false
	}
	if !b64urlText(id) || !b64urlText(mac) {
		return p, false
	}
	if _, err := b64url.DecodeString(id); err != nil {
		return p, false
	}
	m, err := b64url.DecodeString(mac)
	if err != nil || len(m) != sha256.Size {
		return p, false
	}
	return deviceCookieParts{id: id, issued: issued, mac: m}, true
}

// b64urlText reports whether s holds only base64url characters: the decoder
// skips '\r' and '\n', which would give one value several spellings.
func b64urlText(s string) bool {
	for _, c := range []byte(s) {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func (h *Handler) deviceMAC(id, issued, username string) []byte {
	m := hmac.New(sha256.New, h.deviceKey)
	// NUL separators: id and issued are base64url and digits, and a
	// normalised username has no control characters.
	m.Write([]byte("authd-device\x00" + id + "\x00" + issued + "\x00" + username))
	return m.Sum(nil)
}

func (h *Handler) deviceCookieValue(id, username string, at time.Time) string {
	issued := strconv.FormatInt(at.Unix(), 10)
	return id + "." + issued + "." + b64url.EncodeToString(h.deviceMAC(id, issued, username))
}

// trustedDevice returns the identifier of the browser's device cookie if it
// is valid for username (normalised), or "". The MAC is compared in
// constant time.
func (h *Handler) trustedDevice(r *http.Request, username string) string {
	c, err := r.Cookie(h.names.device)
	if err != nil || username == "" {
		return ""
	}
	p, ok := parseDeviceCookie(c.Value)
	if !ok || !hmac.Equal(p.mac, h.deviceMAC(p.id, p.issued, username)) {
		return ""
	}
	sec, err := strconv.ParseInt(p.issued, 10, 64)
	if err != nil {
		return ""
	}
	// A little slack for clocks that differ between replicas.
	if age := h.now().Sub(time.Unix(sec, 0)); age > deviceTTL || age < -time.Minute {
		return ""
	}
	return p.id
}

// withTrustedDevice puts the browser's device in ctx for Authenticate when
// its cookie is valid for the username typed.
func (h *Handler) withTrustedDevice(r *http.Request, ctx context.Context, typed string) context.Context {
	name, err := account.NormalizeUsername(typed)
	if err != nil {
		return ctx
	}
	if id := h.trustedDevice(r, name); id != "" {
		return account.WithTrustedDevice(ctx, id)
	}
	return ctx
}

// rememberDevice sets or renews the device cookie after u logged in: the
// same device identifier if the browser already had one for u (so its
// failure count stays its own), a new one otherwise. A browser remembers one
// account: logging in to another moves the trust there.
func (h *Handler) rememberDevice(w http.ResponseWriter, r *http.Request, u *store.User) {
	id := h.trustedDevice(r, u.Username)
	if id == "" {
		id = h.randomToken(deviceIDBytes)
	}
	c := h.cookie(h.names.device, h.deviceCookieValue(id, u.Username, h.now()), deviceTTL)
	// Only the login form's POST, which comes from our own page, needs it.
	c.SameSite = http.SameSiteStrictMode
	http.SetCookie(w, c)
}
