package login

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/authd/authd/internal/authzreq"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/store"
)

// RequestObjects verifies JWT-secured authorization requests (RFC 9101);
// *authzreq.Verifier implements it.
type RequestObjects interface {
	// Verify returns the parameters of the request object raw, signed by
	// client, or an *oauth.Error (invalid_request_object, or
	// temporarily_unavailable when the client's keys cannot be read).
	Verify(ctx context.Context, client *oauth.Client, raw string) (url.Values, error)
}

var _ RequestObjects = (*authzreq.Verifier)(nil)

// PushedRequests stores pushed authorization requests (store.PushedRequests).
type PushedRequests interface {
	CreatePushedRequest(ctx context.Context, r *store.PushedRequest) error
	ConsumePushedRequest(ctx context.Context, hash []byte, clientID string, now time.Time) (*store.PushedRequest, error)
}

// pPushed is the hidden field that marks the parameters carried through the
// login and consent forms as those of a pushed (or signed) request: the
// request_uri was spent at the authorization endpoint, so the forms carry
// what it resolved to, and this MAC keeps anyone, the user included, from
// changing them or from passing a plain request off as a pushed one when
// pushed requests are required. It is "<unix time>.<mac>". A request object
// sent to the authorization endpoint itself gets none: it was not pushed,
// and its parameters, once resolved, are worth no more than plain ones.
const pPushed = "authd_pushed"

// pushedFormTTL bounds how long a pushed request may sit in a form: as long
// as anyone takes to sign in, far shorter than a session.
const pushedFormTTL = time.Hour

// defaultPushedTTL is a request_uri's lifetime (RFC 9126 §2.2: short; 60
// seconds in its example).
const defaultPushedTTL = 60 * time.Second

func derivePushedKey(csrfKey []byte) []byte {
	m := hmac.New(sha256.New, csrfKey)
	m.Write([]byte("authd pushed request form key v1"))
	return m.Sum(nil)
}

func (h *Handler) pushedMAC(ts string, params url.Values) []byte {
	m := hmac.New(sha256.New, h.pushedKey)
	// url.Values.Encode sorts by name: one encoding for one set of values.
	m.Write([]byte("authd-pushed\x00" + ts + "\x00" + params.Encode()))
	return m.Sum(nil)
}

func (h *Handler) pushedMarker(params url.Values, at time.Time) string {
	ts := strconv.FormatInt(at.Unix(), 10)
	return ts + "." + base64.RawURLEncoding.EncodeToString(h.pushedMAC(ts, params))
}

// checkPushedMarker reports whether marker is a recent MAC of params.
func (h *Handler) checkPushedMarker(marker string, params url.Values) bool {
	ts, mac, ok := strings.Cut(marker, ".")
	if !ok || len(marker) > 64 || !digits(ts) {
		return false
	}
	got, err := base64.RawURLEncoding.Strict().DecodeString(mac) // one spelling per MAC
	if err != nil {
		return false
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	age := h.now().Sub(time.Unix(sec, 0))
	return age >= -time.Minute && age <= pushedFormTTL && hmac.Equal(got, h.pushedMAC(ts, params))
}

// authorizeRequest is parseAuthorizeRequest for every way a request comes:
// plain parameters; client_id and a request_uri from the pushed
// authorization request endpoint (RFC 9126 §4), spent here; client_id and
// a signed request object (RFC 9101 §5); or the parameters such a request
// resolved to, carried back by our own forms under their MAC. Only the
// resolved parameters count: whatever else was sent beside a request_uri or
// request object is ignored (RFC 9126 §4, RFC 9101 §5).
func (h *Handler) authorizeRequest(ctx context.Context, v url.Values) (*authRequest, error) {
	client, err := lookupClient(ctx, h.clients, v)
	if err != nil {
		return nil, err
	}
	resolved, pushed, err := h.resolve(ctx, client, v)
	if err != nil {
		return h.unresolved(client, v, err)
	}
	req, err := checkRequest(client, resolved)
	if err != nil {
		return req, err
	}
	fapi2 := client.Profile(h.securityProfile) == oauth.ProfileFAPI2
	if !pushed && (h.requirePAR || client.Metadata.RequirePushedAuthorizationRequests || fapi2) {
		// RFC 9126 §5 (global) and §6 (per client), FAPI 2.0 Security
		// Profile §5.3.2: authorization request data only through PAR, so
		// not in a request object sent here either.
		return req, oauth.InvalidRequest("this client must push its authorization requests first (PAR, RFC 9126)")
	}
	if fapi2 && req.CodeChallenge == "" {
		// The server's default profile is not the client's own, which
		// checkRequest sees: FAPI 2.0 requires PKCE of every client.
		return req, oauth.InvalidRequest("PKCE with code_challenge_method=S256 is required")
	}
	if pushed {
		marker, ok := single(v, pPushed)
		if !ok || !h.checkPushedMarker(marker, req.params) {
			marker = h.pushedMarker(req.params, h.now())
		}
		req.params.Set(pPushed, marker)
	}
	return req, nil
}

// resolve returns the parameters of the request v stands for, and whether
// they were pushed (through the request_uri, or under our forms' MAC).
func (h *Handler) resolve(ctx context.Context, client *oauth.Client, v url.Values) (url.Values, bool, error) {
	_, hasURI := v[pRequestURI]
	_, hasObject := v[pRequest]
	switch {
	case hasURI && hasObject:
		return nil, false, oauth.InvalidRequest("request and request_uri must not both be sent")
	case hasURI:
		uri, ok := single(v, pRequestURI)
		if !ok || uri == "" {
			return nil, false, oauth.InvalidRequest("request_uri must be sent once")
		}
		if !authzreq.IsPushed(uri) || h.pushed == nil {
			return nil, false, authzreq.RequestURINotSupported("only request_uri values from the pushed authorization request endpoint are accepted")
		}
		// RFC 9126 §4: bound to the client that pushed it, and used once
		// (the store spends it atomically, so concurrent uses cannot both
		// succeed).
		pr, err := h.pushed.ConsumePushedRequest(ctx, authzreq.HashRequestURI(uri), client.ID, h.now())
		if errors.Is(err, store.ErrNotFound) {
			return nil, false, invalidRequestURI("the request_uri is unknown, expired, already used, or another client's")
		}
		if err != nil {
			return nil, false, err
		}
		params, err := url.ParseQuery(pr.Params)
		if err != nil || params.Get(pClientID) != client.ID {
			return nil, false, errors.New("login: a stored pushed request does not parse or names another client")
		}
		return params, true, nil
	case hasObject:
		raw, ok := single(v, pRequest)
		if !ok || raw == "" {
			return nil, false, oauth.InvalidRequest("request must be sent once")
		}
		if h.requestObjects == nil {
			return nil, false, &oauth.Error{Code: "request_not_supported", Description: "request objects are not supported", Status: http.StatusBadRequest}
		}
		params, err := h.requestObjects.Verify(ctx, client, raw)
		if err != nil {
			return nil, false, err
		}
		return params, false, nil
	}
	if marker, present := v[pPushed]; present {
		// The MAC is over the parameters as checkRequest keeps them: the
		// carried ones that are not empty.
		params := url.Values{}
		for _, name := range carried() {
			if val := v[name]; len(val) > 1 || (len(val) == 1 && val[0] != "") {
				params[name] = val
			}
		}
		if len(marker) != 1 || !h.checkPushedMarker(marker[0], params) {
			return nil, false, badRequestPage("The request was altered or has expired. Please start again from the application.")
		}
		return v, true, nil
	}
	return v, false, nil
}

// unresolved answers a request whose request_uri or request object failed:
// at the redirect URI sent beside it (or the client's only one) when that is
// registered, with the state sent beside it, else on a page.
func (h *Handler) unresolved(client *oauth.Client, v url.Values, err error) (*authRequest, error) {
	e, ok := oauth.As(err)
	if !ok {
		return nil, err // a page, or a store failure
	}
	redirectURI, redirectParam, perr := redirectTarget(client, v)
	if perr != nil {
		return nil, badRequestPage("The application sent an invalid request: " + e.Description + ".")
	}
	req := &authRequest{Client: client, RedirectURI: redirectURI, RedirectParam: redirectParam, MaxAge: -1}
	if st, ok := single(v, pState); ok && len(st) <= 1024 && vschar(st) {
		req.State = st
	}
	return req, e
}

// invalidRequestURI is OpenID Connect Core §3.1.2.6 invalid_request_uri.
func invalidRequestURI(desc string) *oauth.Error {
	return &oauth.Error{Code: "invalid_request_uri", Description: desc, Status: http.StatusBadRequest}
}

// Push is the heart of the pushed authorization request endpoint (RFC 9126
// §2): v, sent by client (already authenticated by the caller), is validated
// as an authorization request would be, then stored under a new request_uri,
// which is returned with its lifetime. dpopJKT, if not "", is the thumbprint
// of the DPoP proof sent with the push (RFC 9449 §10.1), and becomes the
// request's dpop_jkt. Errors are *oauth.Error (the RFC 6749 §5.2 JSON
// response) or store failures.
func (h *Handler) Push(ctx context.Context, client *oauth.Client, v url.Values, dpopJKT string) (requestURI string, lifetime time.Duration, err error) {
	if h.pushed == nil {
		return "", 0, errors.New("login: pushed authorization requests are not configured")
	}
	// RFC 9126 §2.1: "The request_uri authorization request parameter is
	// one exception, and it MUST NOT be provided."
	if _, present := v[pRequestURI]; present {
		return "", 0, oauth.InvalidRequest("request_uri must not be pushed")
	}
	if id, ok := single(v, pClientID); !ok || (id != "" && id != client.ID) {
		return "", 0, oauth.InvalidRequest("client_id must be the authenticated client's")
	}
	params := url.Values{}
	if _, present := v[pRequest]; present {
		raw, ok := single(v, pRequest)
		if !ok || raw == "" {
			return "", 0, oauth.InvalidRequest("request must be sent once")
		}
		if h.requestObjects == nil {
			return "", 0, &oauth.Error{Code: "request_not_supported", Description: "request objects are not supported", Status: http.StatusBadRequest}
		}
		// RFC 9126 §3: the object's parameters, and only those.
		if params, err = h.requestObjects.Verify(ctx, client, raw); err != nil {
			return "", 0, err
		}
	} else {
		for _, name := range carried() {
			if val, ok := v[name]; ok {
				params[name] = val
			}
		}
	}
	params.Set(pClientID, client.ID)
	if dpopJKT != "" {
		// RFC 9449 §10.1: both may be sent only if they name the same key.
		if j, ok := single(params, pDPoPJKT); !ok || (j != "" && j != dpopJKT) {
			return "", 0, oauth.InvalidRequest("dpop_jkt does not match the DPoP proof")
		}
		params.Set(pDPoPJKT, dpopJKT)
	}
	req, err := checkRequest(client, params)
	if err != nil {
		var pe *pageError
		if errors.As(err, &pe) {
			return "", 0, oauth.InvalidRequest(strings.TrimSuffix(pe.message, "."))
		}
		return "", 0, err
	}
	uri, hash := authzreq.NewRequestURI(h.random)
	now := h.now()
	if err := h.pushed.CreatePushedRequest(ctx, &store.PushedRequest{
		Hash: hash, ClientID: client.ID, Params: req.params.Encode(),
		ExpiresAt: now.Add(h.pushedTTL), CreatedAt: now,
	}); err != nil {
		return "", 0, err
	}
	return uri, h.pushedTTL, nil
}
