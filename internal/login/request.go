package login

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/store"
)

// Bounds on what a browser may send. An authorization request travels in a
// URL and then round-trips through our forms, so everything about it is
// bounded: the whole, the number of parameters, and each one we read.
const (
	maxParamsBytes = 16 << 10 // a login POST: the request plus username and password
	maxParams      = 64
	maxNonceBytes  = 512
)

// Authorization request parameters (RFC 6749 §4.1.1, RFC 7636 §4.3, OpenID
// Connect Core §3.1.2.1).
const (
	pClientID            = "client_id"
	pRedirectURI         = "redirect_uri"
	pResponseType        = "response_type"
	pResponseMode        = "response_mode"
	pScope               = "scope"
	pState               = "state"
	pNonce               = "nonce"
	pCodeChallenge       = "code_challenge"
	pCodeChallengeMethod = "code_challenge_method"
	pPrompt              = "prompt"
	pMaxAge              = "max_age"
	pLoginHint           = "login_hint"
	pDPoPJKT             = "dpop_jkt" // RFC 9449 §10
	pRequest             = "request"
	pRequestURI          = "request_uri"
)

// paramLimit is the longest value, in bytes, accepted for each parameter we
// read and carry through the login and consent forms.
func paramLimit(name string) int {
	switch name {
	case pClientID, pLoginHint:
		return 256
	case pRedirectURI, pScope:
		return 2048
	case pState:
		return 1024
	case pNonce:
		return maxNonceBytes
	case pCodeChallenge, pDPoPJKT:
		return 128
	case pMaxAge:
		return 10
	case pIDTokenHint:
		return maxIDTokenHintParam
	case pClaims:
		return maxClaimsBytes
	case pACRValues:
		return 256
	}
	return 64 // response_type, response_mode, code_challenge_method, prompt
}

// carried lists the parameters kept in forms, in the order they are written.
func carried() []string {
	return []string{pClientID, pRedirectURI, pResponseType, pResponseMode, pScope, pState,
		pNonce, pCodeChallenge, pCodeChallengeMethod, pPrompt, pMaxAge, pLoginHint, pDPoPJKT,
		pIDTokenHint, pClaims, pACRValues}
}

// prompt is the OpenID Connect prompt parameter (Core §3.1.2.1).
type prompt struct {
	none, login, consent bool
}

// authRequest is a validated authorization request.
type authRequest struct {
	Client *oauth.Client
	// RedirectURI is where the response goes: the redirect_uri sent, or the
	// client's only registered one. Always registered.
	RedirectURI string
	// RedirectParam is redirect_uri exactly as sent, "" when absent: the
	// token endpoint must compare against it (RFC 6749 §4.1.3).
	RedirectParam string
	State         string // "" when absent
	Scopes        []string
	Nonce         string
	CodeChallenge string // S256
	// DPoPJKT binds the code to a DPoP key (RFC 9449 §10): the token
	// request must prove it. "" when absent.
	DPoPJKT string
	// Resources are the resource indicators asked for (RFC 8707 §2).
	Resources []string
	Prompt    prompt
	MaxAge    int64 // seconds; -1 when absent
	LoginHint string
	// claims is what the claims parameter asks that changes what authd
	// does (OpenID Connect Core §5.5); nil when absent.
	claims *claimsRequest
	// params are the recognised parameters as sent, for the forms' hidden
	// fields. They are re-validated on every POST, never trusted.
	params url.Values
}

// pageError is a failure that must not be sent to the redirect URI: the
// client or redirect URI is missing or not trusted (RFC 6749 §4.1.2.1), or the
// request could not be read at all. It is shown to the user.
type pageError struct {
	status         int
	title, message string
}

func (e *pageError) Error() string { return e.title + ": " + e.message }

func badRequestPage(msg string) *pageError {
	return &pageError{http.StatusBadRequest, "Invalid request", msg}
}

// parseParams decodes a query string or form body, within the bounds.
func parseParams(raw string) (url.Values, error) {
	if len(raw) > maxParamsBytes {
		return nil, &pageError{http.StatusRequestEntityTooLarge, "Request too large", "The request is too large."}
	}
	v, err := url.ParseQuery(raw)
	if err != nil {
		return nil, badRequestPage("The request is malformed.")
	}
	if len(v) > maxParams {
		return nil, badRequestPage("The request has too many parameters.")
	}
	return v, nil
}

// single returns the one value of name; "" when absent or empty (RFC 6749
// §3.1: a parameter sent without a value is treated as omitted). ok is false
// when the parameter is repeated (RFC 6749 §3.1: parameters MUST NOT be
// included more than once).
func single(v url.Values, name string) (val string, ok bool) {
	switch vs := v[name]; len(vs) {
	case 0:
		return "", true
	case 1:
		return vs[0], true
	default:
		return "", false
	}
}

// parseAuthorizeRequest validates a plain authorization request (RFC 6749
// §4.1.1) in the order RFC 6749 §4.1.2.1 requires: first the client and
// redirect URI, whose failures are a *pageError and never a redirect
// (otherwise authd would be an open redirector); then everything else, whose
// failures are an *oauth.Error returned with a non-nil request that says
// where to send it (RedirectURI) and what to echo (State). Any other error is
// a store failure. Handler.authorizeRequest adds request objects and pushed
// requests in front of it.
func parseAuthorizeRequest(ctx context.Context, clients Clients, v url.Values) (*authRequest, error) {
	client, err := lookupClient(ctx, clients, v)
	if err != nil {
		return nil, err
	}
	return checkRequest(client, v)
}

// lookupClient returns the registered client that client_id names.
func lookupClient(ctx context.Context, clients Clients, v url.Values) (*oauth.Client, error) {
	clientID, ok := single(v, pClientID)
	switch {
	case !ok:
		return nil, badRequestPage("The client_id parameter is repeated.")
	case clientID == "":
		return nil, badRequestPage("The client_id parameter is missing.")
	case !oauth.AcceptableClientID(clientID):
		return nil, unknownClientPage()
	}
	client, err := clients.Client(ctx, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, unknownClientPage()
	}
	if err != nil {
		return nil, err
	}
	return client, nil
}

// redirectTarget is where errors about v may go: its redirect_uri, or the
// client's only registered one, when that is registered. A *pageError
// otherwise.
func redirectTarget(client *oauth.Client, v url.Values) (redirectURI, redirectParam string, err error) {
	redirectParam, ok := single(v, pRedirectURI)
	if !ok {
		return "", "", badRequestPage("The redirect_uri parameter is repeated.")
	}
	redirectURI = redirectParam
	if redirectURI == "" {
		// RFC 6749 §3.1.2.3: the parameter may be left out only when the
		// client registered exactly one URI.
		if len(client.RedirectURIs) != 1 {
			return "", "", badRequestPage("The redirect_uri parameter is required for this client.")
		}
		redirectURI = client.RedirectURIs[0]
	} else if !client.HasRedirectURI(redirectURI) {
		// Exact string match (RFC 9700 §4.1.3), but for loopback IP
		// redirect URIs, which match on any port (RFC 8252 §7.3): see
		// oauth.Client.HasRedirectURI.
		return "", "", &pageError{http.StatusBadRequest, "Invalid redirect URI",
			"The redirect URI is not registered for this application."}
	}
	return redirectURI, redirectParam, nil
}

// checkRequest validates the parameters v of client's authorization request;
// errors as parseAuthorizeRequest's.
func checkRequest(client *oauth.Client, v url.Values) (*authRequest, error) {
	redirectURI, redirectParam, err := redirectTarget(client, v)
	if err != nil {
		return nil, err
	}

	req := &authRequest{Client: client, RedirectURI: redirectURI, RedirectParam: redirectParam, MaxAge: -1}
	// From here on, errors go back to the client. state first, so that every
	// later error can carry it.
	if st, ok := single(v, pState); ok && len(st) <= 1024 && vschar(st) {
		req.State = st
	} else {
		// RFC 6749 Appendix A.5: state is VSCHAR. A bad one is not echoed.
		return req, oauth.InvalidRequest("state must be at most 1024 printable ASCII characters and sent once")
	}
	req.params = url.Values{}
	for _, name := range carried() {
		val, ok := single(v, name)
		if !ok {
			return req, oauth.InvalidRequest(name + " is repeated")
		}
		limit := paramLimit(name)
		if len(val) > limit {
			return req, oauth.InvalidRequest(name + " is longer than " + strconv.Itoa(limit) + " bytes")
		}
		if !printable(val) {
			return req, oauth.InvalidRequest(name + " contains invalid characters")
		}
		if val != "" {
			req.params.Set(name, val)
		}
	}
	switch rt := req.params.Get(pResponseType); rt {
	case "":
		return req, oauth.InvalidRequest("response_type is required")
	case "code":
	default:
		// Only the authorization code flow (RFC 9700 §2.1.2: no implicit).
		return req, oauth.UnsupportedResponseType("only response_type=code is supported")
	}
	if rm := req.params.Get(pResponseMode); rm != "" && rm != "query" {
		return req, oauth.InvalidRequest("only response_mode=query is supported")
	}
	if !client.AllowsGrant(oauth.GrantAuthorizationCode) {
		return req, oauth.UnauthorizedClient("the client may not use the authorization code grant")
	}

	// RFC 6749 §3.3: absent scope means the client's default, which here is
	// every scope it is allowed.
	scopes, err := oauth.ResolveScope(req.params.Get(pScope), client.Scopes)
	if err != nil {
		return req, err
	}
	req.Scopes = scopes
	if err := parseResources(req, v); err != nil {
		return req, err
	}

	// PKCE for every client, S256 only (RFC 9700 §2.1.1; RFC 7636 §4.4.1),
	// but a confidential client registered with require_pkce false, which
	// sends an OpenID Connect nonce instead (RFC 9700 §2.1.1 allows it).
	if req.params.Get(pCodeChallenge) == "" && req.params.Get(pCodeChallengeMethod) == "" && !client.RequiresPKCE(client.Metadata.SecurityProfile) {
		if req.params.Get(pNonce) == "" || !oauth.HasScope(req.Scopes, "openid") {
			return req, oauth.InvalidRequest("without PKCE, an OpenID Connect request with a nonce is required")
		}
	} else if m := req.params.Get(pCodeChallengeMethod); m != oauth.PKCEMethodS256 {
		return req, oauth.InvalidRequest("PKCE with code_challenge_method=S256 is required")
	} else {
		req.CodeChallenge = req.params.Get(pCodeChallenge)
		if req.CodeChallenge == "" {
			return req, oauth.InvalidRequest("PKCE with code_challenge_method=S256 is required: code_challenge is missing")
		}
		if !oauth.ValidCodeChallenge(req.CodeChallenge) {
			return req, oauth.InvalidRequest("code_challenge must be the base64url SHA-256 of the code verifier (43 characters)")
		}
	}

	// RFC 9449 §10: the JWK SHA-256 thumbprint (RFC 7638) of the key the
	// client will prove at the token endpoint.
	if j := req.params.Get(pDPoPJKT); j != "" {
		if !oauth.ValidCodeChallenge(j) { // the same shape: 43 base64url characters of a SHA-256
			return req, oauth.InvalidRequest("dpop_jkt must be the base64url SHA-256 JWK thumbprint of the DPoP key (43 characters)")
		}
		req.DPoPJKT = j
	}
	req.Nonce = req.params.Get(pNonce)
	req.LoginHint = req.params.Get(pLoginHint)

	if p := req.params.Get(pPrompt); p != "" {
		for _, f := range strings.Fields(p) {
			switch f {
			case "none":
				req.Prompt.none = true
			case "login", "select_account":
				// One account per browser: choosing an account is signing in.
				req.Prompt.login = true
			case "consent":
				req.Prompt.consent = true
			default:
				return req, oauth.InvalidRequest("prompt value is not supported")
			}
		}
		// OpenID Connect Core §3.1.2.1: none with any other value is an error.
		if req.Prompt.none && (req.Prompt.login || req.Prompt.consent) {
			return req, oauth.InvalidRequest("prompt=none cannot be combined with other values")
		}
	}
	if req.claims, err = parseClaims(req.params.Get(pClaims)); err != nil {
		return req, err
	}
	if err := req.claims.checkACR(); err != nil {
		return req, err
	}
	if ma := req.params.Get(pMaxAge); ma != "" {
		n, err := strconv.ParseInt(ma, 10, 64)
		if err != nil || !digits(ma) {
			return req, oauth.InvalidRequest("max_age must be a non-negative integer")
		}
		req.MaxAge = n
	}
	return req, nil
}

func unknownClientPage() *pageError {
	return &pageError{http.StatusBadRequest, "Unknown application",
		"The application that sent you here is not registered."}
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// vschar reports whether s is %x20-7E only (RFC 6749 Appendix A).
func vschar(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// printable reports whether s is valid UTF-8 without control characters:
// such values would not survive a round trip through an HTML form unchanged.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}
