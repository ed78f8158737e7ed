package login

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/authd/authd/internal/fault"
	"github.com/authd/authd/internal/httpapi"
	"github.com/authd/authd/internal/oauth"
)

// handleAuthorize is the authorization endpoint (RFC 6749 §3.1, §4.1.1).
func (h *Handler) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	v, err := readParams(w, r)
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	req, ok := h.validate(w, r, v)
	if !ok {
		return
	}
	sess, err := h.currentSession(r.Context(), r)
	if err != nil {
		h.redirectFault(w, r, req, err)
		return
	}
	h.proceed(w, r, req, sess, false)
}

// handleAuthorizePost accepts a form-POSTed authorization request (OpenID
// Connect Core §3.1.2.1) and, once it is valid, sends the browser to the GET
// form of the same request. A cross-site POST does not carry our SameSite=Lax
// session cookie, so answering it in place would ask a signed-in user to sign
// in again (and fail prompt=none); the top-level GET that follows a 303 does
// carry it.
func (h *Handler) handleAuthorizePost(w http.ResponseWriter, r *http.Request) {
	v, err := readParams(w, r)
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	if uri, ok := single(v, pRequestURI); ok && uri != "" {
		// A pushed request is passed on unspent, as sent: spending it
		// here would put what was pushed, to keep it out of URLs (RFC 9126
		// §1), into the Location. Only client_id and request_uri count
		// (RFC 9126 §4), and the GET validates both.
		if _, err := lookupClient(r.Context(), h.clients, v); err != nil {
			h.renderError(w, r, err)
			return
		}
		noStore(w)
		w.Header().Set("Location", PathAuthorize+"?"+url.Values{pClientID: v[pClientID], pRequestURI: {uri}}.Encode())
		w.WriteHeader(http.StatusSeeOther)
		return
	}
	req, ok := h.validate(w, r, v)
	if !ok {
		return
	}
	noStore(w)
	w.Header().Set("Location", PathAuthorize+"?"+req.params.Encode())
	w.WriteHeader(http.StatusSeeOther)
}

// validate parses the request and answers any failure itself: a page when
// the client or redirect URI cannot be trusted, a redirect otherwise.
func (h *Handler) validate(w http.ResponseWriter, r *http.Request, v url.Values) (*authRequest, bool) {
	req, err := h.authorizeRequest(r.Context(), v)
	if req != nil {
		// The client is registered: attribute the request to it in the
		// access log, whatever else is wrong with the request.
		httpapi.SetClientID(r.Context(), req.Client.ID)
	}
	if err == nil {
		err = h.checkResources(r.Context(), req)
	}
	if err == nil {
		return req, true
	}
	if e, ok := oauth.As(err); ok && req != nil {
		h.redirectError(w, r, req, e)
		return nil, false
	}
	h.renderError(w, r, err)
	return nil, false
}

// renderError shows err as a page: a *pageError as itself, anything else
// (a store failure) as 503 or 500, logged.
func (h *Handler) renderError(w http.ResponseWriter, r *http.Request, err error) {
	var pe *pageError
	if errors.As(err, &pe) {
		h.renderPageError(w, r, pe)
		return
	}
	h.fault(w, r, "request failed", err)
	switch fault.Classify(r.Context(), err).Kind {
	case fault.Canceled:
		hungUp(w)
	case fault.Unavailable:
		h.renderBusy(w, r)
	default:
		h.renderServerError(w, r)
	}
}

// proceed takes a valid request the rest of the way: sign in if needed, ask
// consent if needed, then issue the code. fresh means sess was created by a
// login in this very request.
func (h *Handler) proceed(w http.ResponseWriter, r *http.Request, req *authRequest, sess *session, fresh bool) {
	// OpenID Connect Core §3.1.2.1 id_token_hint and §5.5.1 claims sub:
	// the request is for a given user; someone else signed in must sign
	// in again (as them, for the claims sub value).
	want, must, hintErr := h.expectedSubject(r.Context(), req)
	if hintErr != nil {
		h.redirectError(w, r, req, hintErr)
		return
	}
	other := want != "" && sess != nil && sess.rec.Subject != want
	if h.mustLogin(req, sess, fresh) || (other && !fresh) {
		if req.Prompt.none {
			// OpenID Connect Core §3.1.2.6.
			h.redirectError(w, r, req, &oauth.Error{Code: oauth.CodeLoginRequired,
				Description: "the user is not signed in", Status: http.StatusBadRequest})
			return
		}
		h.renderLogin(w, r, http.StatusOK, req, "", "", "")
		return
	}
	if must && other {
		h.redirectError(w, r, req, &oauth.Error{Code: oauth.CodeLoginRequired,
			Description: "the signed-in user is not the one the claims parameter names", Status: http.StatusBadRequest})
		return
	}
	need, err := h.needsConsent(r.Context(), req, sess)
	if err != nil {
		h.redirectFault(w, r, req, err)
		return
	}
	if need {
		if req.Prompt.none {
			h.redirectError(w, r, req, &oauth.Error{Code: oauth.CodeConsentRequired,
				Description: "the user has not granted the requested scopes", Status: http.StatusBadRequest})
			return
		}
		h.renderConsent(w, r, req, sess)
		return
	}
	h.issueAndRedirect(w, r, req, sess)
}

// mustLogin reports whether the user has to sign in before this request:
// there is no session, or the request asks for a fresh login (prompt=login,
// OpenID Connect Core §3.1.2.1) or one more recent than max_age seconds.
// A session created in this request satisfies both.
func (h *Handler) mustLogin(req *authRequest, sess *session, fresh bool) bool {
	switch {
	case sess == nil:
		return true
	case fresh:
		return false
	case req.Prompt.login:
		return true
	case req.MaxAge >= 0:
		// Whole seconds, as auth_time is in the id_token.
		elapsed := h.now().Unix() - sess.rec.AuthTime.Unix()
		return elapsed > req.MaxAge
	}
	return false
}
