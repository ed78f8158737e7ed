package login

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/authd/authd/internal/logoutnotify"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/store"
)

// Sign-out is OpenID Connect RP-Initiated Logout 1.0: /logout is the
// end_session_endpoint. A relying party sends the browser there (GET, or a
// form POST, §2) with an id_token_hint, its client_id, a post_logout_redirect_uri
// and a state; authd always asks the user to confirm, and only the
// confirmation form, a POST with a CSRF token, signs out. Skipping the
// question when the hint names the signed-in user is allowed by §2, but it
// would let any page that holds one of the user's id_tokens (they end up in
// logs and browser history) sign the user out with a link, so authd does not.
//
// The browser is sent back to the relying party only when everything checks
// out (§3, §4): the hint is an id_token authd issued (signature and iss; an
// expired one is fine, §2), client_id, when also sent, is the hint's aud, and
// post_logout_redirect_uri is registered for that client, compared exactly.
// Otherwise the user gets the signed-out page: no open redirect.

// RP-Initiated Logout request parameters (§2); client_id and state are shared
// with the authorization request.
const (
	pIDTokenHint           = "id_token_hint"
	pLogoutHint            = "logout_hint"
	pPostLogoutRedirectURI = "post_logout_redirect_uri"
	pUILocales             = "ui_locales"
	// pConfirm marks our confirmation form, so that its POST without a valid
	// CSRF token is refused rather than taken for a relying party's request.
	pConfirm = "confirm"
)

// Bounds on the logout parameters; anything longer is not used.
const (
	maxIDTokenHintBytes    = 8 << 10
	maxLogoutRedirectBytes = 2048
	maxLogoutStateBytes    = 1024
)

// logoutRequest is an RP-Initiated Logout request after validation. The zero
// value is a plain sign-out: no relying party, no redirection.
type logoutRequest struct {
	// client is the relying party that asked, set only with redirect.
	client *oauth.Client
	// redirect is the registered post_logout_redirect_uri with state added;
	// "" when the browser stays here.
	redirect string
	// params are the validated parameters, carried by the confirmation form
	// and validated again from scratch when it comes back.
	params url.Values
}

// handleLogoutPage asks for confirmation, or, when the browser is not signed
// in, says so. A GET never signs out: a link or an <img> on another site
// must not be able to end the session.
func (h *Handler) handleLogoutPage(w http.ResponseWriter, r *http.Request) {
	v, err := readParams(w, r)
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	h.askLogout(w, r, v)
}

// askLogout renders the confirmation form for the request in v. A browser
// with no session has nothing to confirm: it is told it is signed out, and
// when a relying party's request validated, offered the way back to it
// (§4: logout is idempotent, so the relying party gets its answer either
// way). The form that goes back is the confirmation form, so the browser
// returns only by its own choice, as it would after signing out.
func (h *Handler) askLogout(w http.ResponseWriter, r *http.Request, v url.Values) {
	req, err := h.parseLogoutRequest(r.Context(), v)
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	// A store failure only costs the courtesies: the name shown, and
	// knowing that there is no session (the form is drawn as if there were).
	sess, sessErr := h.currentSession(r.Context(), r)
	if sessErr == nil && sess == nil && req.redirect == "" {
		h.renderMessage(w, r, http.StatusOK, "Signed out", "You are signed out.", linkSignIn)
		return
	}
	d := &pageData{
		Title:  "Sign out",
		CSRF:   h.csrfToken(h.csrfCookieValue(w, r), purposeLogout, "", h.now()),
		Hidden: []hiddenField{{Name: pConfirm, Value: "1"}},
	}
	for _, name := range []string{pIDTokenHint, pClientID, pPostLogoutRedirectURI, pState} {
		if val := req.params.Get(name); val != "" {
			d.Hidden = append(d.Hidden, hiddenField{Name: name, Value: val})
		}
	}
	if req.client != nil {
		d.ClientName = clientName(req.client)
	}
	switch {
	case sess != nil:
		d.Username = sess.user.Username
	case sessErr == nil:
		d.Title, d.SignedOut = "Signed out", true
	}
	h.render(w, r, http.StatusOK, "logout", d)
}

// cancelLogout answers the confirmation form's Cancel: nothing changes.
// It needs no CSRF check, since it does nothing a forged form could want.
func (h *Handler) cancelLogout(w http.ResponseWriter, r *http.Request) {
	sess, err := h.currentSession(r.Context(), r)
	switch {
	case sess != nil:
		h.renderMessage(w, r, http.StatusOK, "Still signed in", "You are still signed in as "+sess.user.Username+
			". You can close this page or go back to the application.", linkChangePassword, linkSignOut)
	case err == nil:
		h.renderMessage(w, r, http.StatusOK, "Signed out", "You are signed out.", linkSignIn)
	default:
		// The name is a courtesy a store failure may cost.
		h.renderMessage(w, r, http.StatusOK, "Nothing changed", "You were not signed out.", linkSignOut)
	}
}

// handleLogout takes the confirmation form: it deletes the session
// server-side, so the cookie is worthless even if it survives somewhere,
// clears the cookie, and then sends the browser back to the relying party if
// the request carried in the form still validates.
//
// A POST that is not our form (no CSRF token, no confirm marker, but logout
// parameters) is a relying party's request sent as a form (§2: the OP MUST
// support POST), and is asked about like a GET.
func (h *Handler) handleLogout(w http.ResponseWriter, r *http.Request) {
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
	if decision == "cancel" {
		h.cancelLogout(w, r)
		return
	}
	if token == "" && !v.Has(pConfirm) && hasLogoutParams(v) {
		h.askLogout(w, r, v)
		return
	}
	if !h.checkCSRF(r, token, purposeLogout, "", 0) {
		h.renderForbidden(w, r)
		return
	}
	front, err := h.sessionEnding(r.Context(), r)
	if err != nil {
		// The session stays: ending it now would leave its relying
		// parties signed in with nobody to tell them.
		h.renderError(w, r, err)
		return
	}
	if err := h.endSession(r.Context(), w, r); err != nil {
		// Do not claim a sign-out that did not happen.
		h.renderError(w, r, err)
		return
	}
	http.SetCookie(w, h.cookie(h.names.session, "", -1))
	// Validated after signing out: the user asked to sign out, and that must
	// not depend on the relying party's request being in order.
	req, err := h.parseLogoutRequest(r.Context(), v)
	if err != nil {
		h.fault(w, r, "validate logout request", err)
		req = &logoutRequest{}
	}
	if len(front) == 0 && req.redirect != "" {
		noStore(w)
		w.Header().Set("Location", req.redirect)
		w.WriteHeader(http.StatusSeeOther)
		return
	}
	d := &pageData{Title: "Signed out", Message: "You are signed out.", Continue: req.redirect}
	if req.redirect == "" {
		d.Links = []pageLink{linkSignIn}
	}
	// Front-Channel Logout §3: one iframe per relying party of the session
	// that registered a frontchannel_logout_uri. With a redirect to follow,
	// the page offers it as a link: without script it cannot know when the
	// iframes are done, and leaving at once could cut them off.
	for _, fc := range front {
		if !cspSource(fc.Origin) {
			continue
		}
		d.FrontChannel = append(d.FrontChannel, fc.URL)
		if !slices.Contains(d.frameSrc, fc.Origin) {
			d.frameSrc = append(d.frameSrc, fc.Origin)
		}
	}
	h.render(w, r, http.StatusOK, "message", d)
}

// sessionEnding tells the relying parties of the browser's live session, if
// any, that it ends, and returns the front-channel iframes to draw.
func (h *Handler) sessionEnding(ctx context.Context, r *http.Request) ([]logoutnotify.FrontChannel, error) {
	if h.logouts == nil {
		return nil, nil
	}
	sess, err := h.currentSession(ctx, r)
	if err != nil || sess == nil {
		return nil, err
	}
	return h.logouts.SessionEnding(ctx, sess.rec.Subject, sess.hash)
}

// cspSource reports whether origin can go into a CSP source list as it is:
// scheme://host[:port] of characters that cannot end or split a directive.
func cspSource(origin string) bool {
	scheme, host, ok := strings.Cut(origin, "://")
	if !ok || (scheme != "https" && scheme != "http") || host == "" {
		return false
	}
	for _, c := range host {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-:[]", c)) {
			return false
		}
	}
	return true
}

// hasLogoutParams reports whether v carries any RP-Initiated Logout parameter.
func hasLogoutParams(v url.Values) bool {
	for _, name := range []string{pIDTokenHint, pLogoutHint, pClientID, pPostLogoutRedirectURI, pState, pUILocales} {
		if v.Has(name) {
			return true
		}
	}
	return false
}

// parseLogoutRequest validates an RP-Initiated Logout request (§2, §3). A
// request that fails any check is not an error: it becomes a plain sign-out
// and the reason is logged at debug level (§4: what failed to validate is not
// used). logout_hint and ui_locales are accepted and ignored. The error is a
// store failure.
func (h *Handler) parseLogoutRequest(ctx context.Context, v url.Values) (*logoutRequest, error) {
	plain := &logoutRequest{}
	refuse := func(reason string) (*logoutRequest, error) {
		h.log.LogAttrs(ctx, slog.LevelDebug, "login: logout request not used for redirection", slog.String("reason", reason))
		return plain, nil
	}
	hint, ok1 := single(v, pIDTokenHint)
	clientID, ok2 := single(v, pClientID)
	uri, ok3 := single(v, pPostLogoutRedirectURI)
	state, ok4 := single(v, pState)
	switch {
	case !ok1 || !ok2 || !ok3 || !ok4:
		return refuse("a parameter is repeated")
	case uri == "":
		// Nowhere to go back to. A hint or client_id alone changes nothing:
		// authd asks the user either way.
		return plain, nil
	case len(hint) > maxIDTokenHintBytes:
		return refuse("id_token_hint is too long")
	case clientID != "" && !oauth.AcceptableClientID(clientID):
		return refuse("client_id is malformed")
	case len(uri) > maxLogoutRedirectBytes:
		return refuse("post_logout_redirect_uri is too long")
	case len(state) > maxLogoutStateBytes || !vschar(state):
		return refuse("state must be at most 1024 printable ASCII characters")
	}

	rp := clientID
	if hint != "" {
		aud, err := h.verifyIDTokenHint(ctx, hint)
		if err != nil {
			return refuse(err.Error())
		}
		// §2: with both, the client_id must be the one the ID Token was issued to.
		if clientID != "" && clientID != aud {
			return refuse("client_id is not the id_token_hint's audience")
		}
		rp = aud
	}
	if rp == "" {
		// §3: the target's legitimacy must be confirmed, which needs the client.
		return refuse("post_logout_redirect_uri without id_token_hint or client_id")
	}
	client, err := h.clients.Client(ctx, rp)
	if errors.Is(err, store.ErrNotFound) {
		return refuse("unknown client")
	}
	if err != nil {
		return nil, err
	}
	// §3: exact match with a registered value, no pattern matching.
	if !client.HasPostLogoutRedirectURI(uri) {
		return refuse("post_logout_redirect_uri is not registered for the client")
	}
	redirect, err := withState(uri, state)
	if err != nil {
		// Registration should have refused it; do not guess.
		return refuse("registered post_logout_redirect_uri does not parse")
	}
	params := url.Values{pPostLogoutRedirectURI: {uri}}
	for name, val := range map[string]string{pIDTokenHint: hint, pClientID: clientID, pState: state} {
		if val != "" {
			params.Set(name, val)
		}
	}
	return &logoutRequest{client: client, redirect: redirect, params: params}, nil
}

// idTokenHintClaims are the claims of an id_token_hint that logout reads.
type idTokenHintClaims struct {
	Iss string          `json:"iss"`
	Sub string          `json:"sub"`
	Aud json.RawMessage `json:"aud"`
}

// verifyIDTokenHint checks that hint is an ID Token authd issued: a JWS of
// type JWT under one of the published keys (so not an access token, whose
// type is at+jwt), with authd's iss. §2: exp is not checked, since the OP
// SHOULD accept an expired ID Token; a hint is good for as long as its
// signing key is published. It returns the client the token was issued to.
func (h *Handler) verifyIDTokenHint(ctx context.Context, hint string) (string, error) {
	payload, err := h.idTokens.Verify(ctx, hint, "JWT")
	if err != nil {
		return "", errors.New("id_token_hint does not verify")
	}
	var c idTokenHintClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return "", errors.New("id_token_hint claims are malformed")
	}
	if c.Iss != h.issuer {
		return "", errors.New("id_token_hint was issued by another issuer")
	}
	if c.Sub == "" {
		return "", errors.New("id_token_hint has no subject")
	}
	// authd writes aud as one string; an array must name exactly one client,
	// so there is no doubt which client's registrations apply.
	var aud string
	if err := json.Unmarshal(c.Aud, &aud); err != nil {
		var auds []string
		if err := json.Unmarshal(c.Aud, &auds); err != nil || len(auds) != 1 {
			return "", errors.New("id_token_hint must have exactly one audience")
		}
		aud = auds[0]
	}
	if !oauth.AcceptableClientID(aud) {
		return "", errors.New("id_token_hint audience is not a client id")
	}
	return aud, nil
}

// withState adds state, when there is one, to the registered URI's query,
// which is otherwise kept byte for byte.
func withState(uri, state string) (string, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return "", err
	}
	if state == "" {
		return uri, nil
	}
	q := "state=" + url.QueryEscape(state)
	if u.RawQuery != "" {
		q = u.RawQuery + "&" + q
	}
	u.RawQuery, u.ForceQuery = q, false
	return u.String(), nil
}
