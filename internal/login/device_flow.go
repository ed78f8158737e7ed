package login

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/authd/authd/internal/device"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/secevent"
	"github.com/authd/authd/internal/store"
)

// The verification page of the device authorization grant (RFC 8628 §3.3):
// a signed-in user enters the code their device shows (or arrives with it in
// the link, §3.3.1), sees which client asks for what, and approves or
// denies. Arriving with the code never approves anything by itself (§5.4:
// a link can be sent by an attacker who started the flow on their device);
// only the CSRF-protected form does. This is not device.go, which is the
// trusted-browser cookie of the login defences.

// PathDevice is the verification URI (RFC 8628 §3.2 verification_uri),
// relative to the issuer.
const PathDevice = "/device"

// pUserCode is the parameter that carries the user code (RFC 8628 §3.3.1).
const pUserCode = "user_code"

// purposeDevice is the verification page's forms, bound to the session.
const purposeDevice = "device"

// Messages of the verification page. One message for a code that is wrong,
// expired or used, so the page tells a guesser nothing.
const (
	msgUserCodeInvalid = "That code is not valid. Check the code on your device; it may have expired."
	msgDeviceApproved  = "The device is now signed in. You can return to it."
	msgDeviceDenied    = "The device was not allowed access. You can close this page."
)

// DeviceAuthorizations are the device authorization requests the page
// decides (the store).
type DeviceAuthorizations interface {
	PendingDeviceAuthorization(ctx context.Context, userCodeHash []byte, now time.Time) (*store.DeviceAuthorization, error)
	DecideDeviceAuthorization(ctx context.Context, userCodeHash []byte, d store.DeviceDecision, now time.Time) (*store.DeviceAuthorization, error)
}

// UserCodeHasher gives the hash a normalised user code is stored under
// (*device.Codes).
type UserCodeHasher interface {
	Hash(normalized string) []byte
}

// UserCodeGuard bounds wrong user-code entries per address
// (*defense.UserCodes).
type UserCodeGuard interface {
	// Allow refuses an address whose failures are spent: an *oauth.Error
	// with a status and Retry-After.
	Allow(ctx context.Context, ip string) error
	// Fail records a wrong entry.
	Fail(ctx context.Context, ip string)
}

// Device configures the verification page; nil in Deps: no page.
type Device struct {
	Authorizations DeviceAuthorizations
	UserCodes      UserCodeHasher
	// Guard, if set, limits wrong entries per address (RFC 8628 §5.1).
	Guard UserCodeGuard
}

// deviceNext is the page a sign-in started on the verification page returns
// to: the page itself, with the code the user arrived with when it is one.
// Built from the normalised code, so nothing the request carried goes into
// the Location.
func deviceNext(userCode string) string {
	if code, ok := device.Normalize(userCode); ok {
		return PathDevice + "?" + url.Values{pUserCode: {device.Format(code)}}.Encode()
	}
	return PathDevice
}

// isDeviceNext reports whether next is a page deviceNext builds.
func isDeviceNext(next string) bool {
	if next == PathDevice {
		return true
	}
	u, err := url.Parse(next)
	if err != nil || u.Path != PathDevice || u.RawQuery == "" {
		return false
	}
	q, err := url.ParseQuery(u.RawQuery)
	return err == nil && len(q) == 1 && len(q[pUserCode]) == 1 && deviceNext(q.Get(pUserCode)) == next
}

// handleDevicePage shows the code form (filled in from the link, if it
// carried a code) to a signed-in user, and sends anyone else to sign in
// first. It looks nothing up: showing a form changes nothing and costs no
// guess.
func (h *Handler) handleDevicePage(w http.ResponseWriter, r *http.Request) {
	v, err := readParams(w, r)
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	code, _ := single(v, pUserCode)
	sess, err := h.currentSession(r.Context(), r)
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	if sess == nil {
		h.signInThen(w, deviceNext(code))
		return
	}
	if n, ok := device.Normalize(code); ok {
		code = device.Format(n)
	} else {
		code = ""
	}
	h.renderDeviceCode(w, r, http.StatusOK, sess, code, "")
}

// signInThen sends the browser to the login form, which returns to next.
func (h *Handler) signInThen(w http.ResponseWriter, next string) {
	noStore(w)
	w.Header().Set("Location", PathLogin+"?"+url.Values{pNext: {next}}.Encode())
	w.WriteHeader(http.StatusSeeOther)
}

func (h *Handler) renderDeviceCode(w http.ResponseWriter, r *http.Request, status int, sess *session, code, errMsg string) {
	h.render(w, r, status, "device", &pageData{
		Title:    "Connect a device",
		Username: sess.user.Username,
		UserCode: code,
		Error:    errMsg,
		CSRF:     h.csrfToken(h.csrfCookieValue(w, r), purposeDevice, sessionBinding(sess), h.now()),
	})
}

// handleDevice takes the verification page's forms: a code to look up
// (no decision), or a decision on a code shown for confirmation. Every
// wrong, expired or used code counts against the address.
func (h *Handler) handleDevice(w http.ResponseWriter, r *http.Request) {
	v, err := readParams(w, r)
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	f, err := formFields(v, csrfField, pUserCode, "decision")
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	token, typed, decision := f[0], f[1], f[2]
	sess, err := h.currentSession(r.Context(), r)
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	if sess == nil {
		// Signed out while the form was open: sign in, then back here.
		h.signInThen(w, deviceNext(typed))
		return
	}
	if !h.checkCSRF(r, token, purposeDevice, sessionBinding(sess), consentTicketTTL) {
		h.renderForbidden(w, r)
		return
	}
	ip := h.clientIP(r)
	if g := h.device.Guard; g != nil {
		if err := g.Allow(r.Context(), ip); err != nil {
			var oe *oauth.Error
			if !errors.As(err, &oe) {
				h.renderError(w, r, err)
				return
			}
			h.renderDeviceCode(w, r, refused(w, oe), sess, "", tooManyAttempts(oe.RetryAfter))
			return
		}
	}
	code, ok := device.Normalize(typed)
	if !ok {
		h.wrongUserCode(w, r, sess, ip)
		return
	}
	hash := h.device.UserCodes.Hash(code)
	switch decision {
	case "":
		a, err := h.device.Authorizations.PendingDeviceAuthorization(r.Context(), hash, h.now())
		if errors.Is(err, store.ErrNotFound) {
			h.wrongUserCode(w, r, sess, ip)
			return
		}
		if err != nil {
			h.renderError(w, r, err)
			return
		}
		h.renderDeviceConfirm(w, r, sess, a, code)
	case "approve", "deny":
		h.decideDevice(w, r, sess, hash, decision == "approve", ip)
	default:
		h.renderError(w, r, badRequestPage("The decision is not one of approve or deny."))
	}
}

func (h *Handler) wrongUserCode(w http.ResponseWriter, r *http.Request, sess *session, ip string) {
	if g := h.device.Guard; g != nil {
		g.Fail(r.Context(), ip)
	} else {
		h.events.Emit(secevent.Event{Type: secevent.DeviceUserCodeFailed, IP: ip})
	}
	h.renderDeviceCode(w, r, http.StatusBadRequest, sess, "", msgUserCodeInvalid)
}

// renderDeviceConfirm shows who asks for what, as the consent page does,
// with the code once more so the user can compare it with the device's
// (RFC 8628 §5.4).
func (h *Handler) renderDeviceConfirm(w http.ResponseWriter, r *http.Request, sess *session, a *store.DeviceAuthorization, code string) {
	c, err := h.clients.Client(r.Context(), a.ClientID)
	if errors.Is(err, store.ErrNotFound) {
		// Deleted since it asked: nothing to approve.
		h.renderDeviceCode(w, r, http.StatusBadRequest, sess, "", msgUserCodeInvalid)
		return
	}
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "device_confirm", &pageData{
		Title:      "Allow device access",
		ClientName: clientName(c),
		Username:   sess.user.Username,
		UserCode:   device.Format(code),
		Scopes:     h.describeScopes(r.Context(), oauth.ParseScope(a.Scope)),
		CSRF:       h.csrfToken(h.csrfCookieValue(w, r), purposeDevice, sessionBinding(sess), h.now()),
	})
}

// decideDevice records the decision. The store makes it once: a code
// decided (or expired) since the form was drawn is refused like a wrong one.
func (h *Handler) decideDevice(w http.ResponseWriter, r *http.Request, sess *session, hash []byte, approve bool, ip string) {
	d := store.DeviceDecision{Status: store.DeviceDenied}
	if approve {
		d = store.DeviceDecision{Status: store.DeviceApproved, Subject: sess.user.ID, AuthTime: sess.rec.AuthTime,
			UserGeneration: sess.user.Generation}
	}
	a, err := h.device.Authorizations.DecideDeviceAuthorization(r.Context(), hash, d, h.now())
	if errors.Is(err, store.ErrNotFound) {
		h.wrongUserCode(w, r, sess, ip)
		return
	}
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	ev := secevent.Event{Type: secevent.DeviceDenied, ClientID: a.ClientID, Subject: sess.user.ID, IP: ip,
		Detail: map[string]string{"scope": a.Scope}}
	title, msg := "Device not allowed", msgDeviceDenied
	if approve {
		ev.Type, title, msg = secevent.DeviceApproved, "Device connected", msgDeviceApproved
	}
	h.events.Emit(ev)
	h.renderMessage(w, r, http.StatusOK, title, msg)
}
