package login

import (
	"context"
	"net/http"
	"net/url"

	"github.com/authd/authd/internal/fault"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/store"
)

// issueCode stores a new authorization code for req and returns it. The code
// is 256 random bits; only its SHA-256 is stored, so the table cannot be
// replayed. The code carries what the token endpoint must check or copy: the
// redirect_uri exactly as sent ("" when absent, RFC 6749 §4.1.3), the PKCE
// challenge, the nonce and auth_time for the id_token, and a new grant id that
// every token from this code will carry (so they can be revoked together if
// the code is replayed, RFC 6749 §4.1.2).
func (h *Handler) issueCode(ctx context.Context, req *authRequest, sess *session) (string, error) {
	code := h.randomToken(32)
	c := &store.AuthCode{
		Hash:          hashToken(code),
		ClientID:      req.Client.ID,
		RedirectURI:   req.RedirectParam,
		Subject:       sess.user.ID,
		Scope:         oauth.JoinScope(req.Scopes),
		Nonce:         req.Nonce,
		CodeChallenge: req.CodeChallenge,
		DPoPJKT:       req.DPoPJKT,
		Resources:     req.Resources,
		AuthTime:      sess.rec.AuthTime,
		GrantID:       h.randomToken(16),
		ExpiresAt:     h.now().Add(h.codeTTL),
		// A password change after this moment ends the code too.
		UserGeneration: sess.user.Generation,
	}
	if h.logouts != nil {
		// Recorded before the code exists, so that no client holds an
		// id_token of a session whose end it would not be told of.
		sid, err := h.logouts.Joined(ctx, sess.hash, sess.user.ID, req.Client.ID, sess.rec.ExpiresAt)
		if err != nil {
			return "", err
		}
		c.SID = sid
	}
	if err := h.codes.CreateAuthCode(ctx, c); err != nil {
		return "", err
	}
	return code, nil
}

func (h *Handler) issueAndRedirect(w http.ResponseWriter, r *http.Request, req *authRequest, sess *session) {
	code, err := h.issueCode(r.Context(), req, sess)
	if err != nil {
		h.redirectFault(w, r, req, err)
		return
	}
	h.sendToClient(w, r, req, url.Values{"code": {code}})
}

// redirectError sends an RFC 6749 §4.1.2.1 error to the client.
func (h *Handler) redirectError(w http.ResponseWriter, r *http.Request, req *authRequest, e *oauth.Error) {
	p := url.Values{"error": {e.Code}}
	if e.Description != "" {
		p.Set("error_description", e.Description)
	}
	h.sendToClient(w, r, req, p)
}

// redirectFault reports a failure of ours to the client: a redirect cannot
// carry a 500, hence server_error and temporarily_unavailable (RFC 6749
// §4.1.2.1). The cause is logged, never sent.
func (h *Handler) redirectFault(w http.ResponseWriter, r *http.Request, req *authRequest, err error) {
	h.fault(w, r, "authorization failed", err)
	c := fault.Classify(r.Context(), err)
	switch c.Kind {
	case fault.Canceled:
		hungUp(w)
		return
	case fault.Protocol:
		c.OAuth = oauth.ServerError() // a fault of ours, whatever it wrapped
	}
	h.redirectError(w, r, req, c.OAuth)
}

// sendToClient redirects the browser to the request's (registered) redirect
// URI with params, state if the client sent one, and iss (RFC 9207 §2), added
// to whatever query the registered URI already has (RFC 6749 §3.1.2: the
// query component MUST be retained). The status is 303 after a POST, so the
// browser does not re-post the form, else 302.
func (h *Handler) sendToClient(w http.ResponseWriter, r *http.Request, req *authRequest, params url.Values) {
	u, err := url.Parse(req.RedirectURI)
	if err != nil {
		// A registered URI that does not parse: registration should have
		// refused it. Do not guess where to send the user.
		h.fault(w, r, "registered redirect URI does not parse", err)
		h.renderServerError(w, r)
		return
	}
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	if req.State != "" {
		q.Set("state", req.State)
	}
	q.Set("iss", h.issuer)
	u.RawQuery = q.Encode()
	// RFC 6749 §3.1.2: a redirect URI has no fragment.
	u.Fragment, u.RawFragment = "", ""
	status := http.StatusFound
	if r.Method == http.MethodPost {
		status = http.StatusSeeOther
	}
	noStore(w)
	w.Header().Set("Location", u.String())
	w.WriteHeader(status)
}
