package login

import (
	"context"
	"encoding/base64"
	"net/http"

	"github.com/authd/authd/internal/oauth"
)

// needsConsent reports whether the user must approve this request. A
// first-party client needs no consent; another needs it once per scope, and
// again only for scopes it has not been granted before. prompt=consent asks
// regardless (OpenID Connect Core §3.1.2.1). A request for no scope at all
// needs none: there is nothing to grant.
func (h *Handler) needsConsent(ctx context.Context, req *authRequest, sess *session) (bool, error) {
	switch {
	case req.Prompt.consent:
		return true, nil
	case req.Client.FirstParty, len(req.Scopes) == 0:
		return false, nil
	}
	granted, err := h.consents.Consent(ctx, sess.user.ID, req.Client.ID)
	if err != nil {
		return false, err
	}
	return !oauth.SubsetOf(req.Scopes, granted), nil
}

// sessionBinding ties a form to the session it was drawn for (consent: the
// one that passed the login checks; a password change: the one whose user
// changes it): if the session changes (sign-out, another user), the form is
// void.
func sessionBinding(sess *session) string {
	return base64.RawURLEncoding.EncodeToString(sess.hash)
}

func (h *Handler) renderConsent(w http.ResponseWriter, r *http.Request, req *authRequest, sess *session) {
	h.render(w, r, http.StatusOK, "consent", &pageData{
		Title:      "Allow access",
		ClientName: clientName(req.Client),
		Username:   sess.user.Username,
		CSRF:       h.csrfToken(h.csrfCookieValue(w, r), purposeConsent, sessionBinding(sess), h.now()),
		Hidden:     hiddenFields(req.params),
		Scopes:     h.describeScopes(r.Context(), req.Scopes),
		Resources:  req.Resources,
	})
}

// handleConsent records the user's decision. The form's token is bound to
// the CSRF cookie, to the session, and to the time the form was drawn: the
// login requirements (prompt, max_age) were met then, so they are not asked
// again here, but only within consentTicketTTL.
func (h *Handler) handleConsent(w http.ResponseWriter, r *http.Request) {
	v, err := readParams(w, r)
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	f, err := formFields(v, csrfField, "decision")
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	token, decision := f[0], f[1]
	sess, err := h.currentSession(r.Context(), r)
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	if sess == nil {
		// Signed out (or the session expired) while the form was open: sign
		// in again for the same request. Showing a form changes nothing, so
		// no CSRF check is needed for it.
		if req, ok := h.validate(w, r, v); ok {
			h.renderLogin(w, r, http.StatusOK, req, "", "", "")
		}
		return
	}
	if !h.checkCSRF(r, token, purposeConsent, sessionBinding(sess), consentTicketTTL) {
		h.renderForbidden(w, r)
		return
	}
	req, ok := h.validate(w, r, v)
	if !ok {
		return
	}
	switch decision {
	case "approve":
	case "deny":
		h.redirectError(w, r, req, oauth.AccessDenied("the user denied the request"))
		return
	default:
		h.renderError(w, r, badRequestPage("The decision is missing."))
		return
	}
	if len(req.Scopes) > 0 {
		if err := h.consents.GrantConsent(r.Context(), sess.user.ID, req.Client.ID, req.Scopes, h.now()); err != nil {
			h.redirectFault(w, r, req, err)
			return
		}
	}
	h.issueAndRedirect(w, r, req, sess)
}
