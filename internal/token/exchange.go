package token

import (
	"context"
	"slices"
	"time"

	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/secevent"
	"github.com/authd/authd/internal/store"
)

// Request is a parsed token request (RFC 6749 §4). Fields a grant does not use
// are empty.
type Request struct {
	GrantType   string
	Credentials Credentials
	Scope       string

	// authorization_code
	Code         string
	RedirectURI  string
	CodeVerifier string
	// refresh_token
	RefreshToken string
	// password
	Username string
	Password string
	// urn:ietf:params:oauth:grant-type:device_code (RFC 8628 §3.4)
	DeviceCode string
	// token exchange (RFC 8693 §2.1); Audiences may repeat.
	SubjectToken, SubjectTokenType string
	ActorToken, ActorTokenType     string
	RequestedTokenType             string
	Audiences                      []string
	// jwt-bearer (RFC 7523 §2.1)
	Assertion string

	// ClientIP is the caller's address, for limits and security events.
	ClientIP string
	// DPoPJKT is the thumbprint of the key of the request's verified DPoP
	// proof (RFC 9449 §4.3), "" without one; CertThumbprint is the x5t#S256 of
	// the client certificate presented (RFC 8705 §3.1), "" without one.
	DPoPJKT, CertThumbprint string
	// DPoPAlg is the verified proof's alg, for profiles that narrow them.
	DPoPAlg string

	// Resources are the request's resource parameters (RFC 8707 §2), which
	// may repeat; a token is issued for one of them.
	Resources []string

	// Authenticated, when set, is the client Credentials already
	// authenticated in this request (a client assertion's jti is single-use,
	// so a request must not authenticate twice).
	Authenticated *oauth.Client
}

// Response is a successful token response (RFC 6749 §5.1).
type Response struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	Scope        string `json:"scope,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	// IssuedTokenType is RFC 8693 §2.2.1's, for token exchange only.
	IssuedTokenType string `json:"issued_token_type,omitempty"`
}

// grant is what a grant decides: who the token is for and with which scope.
type grant struct {
	client   *oauth.Client
	subject  string
	scopes   []string // the access token's scope
	grantID  string   // "" for client_credentials
	authTime time.Time
	nonce    string
	sid      string // the browser session of the code (Back-Channel Logout §2.1); "" after a refresh
	// user is the person the tokens are for; nil for client_credentials.
	user *store.User
	// familyScope is the scope of the refresh-token family (what was granted),
	// which a refresh may narrow for one access token but never widen.
	familyScope []string
	// refreshToken is set when the grant already minted the next refresh token
	// (rotation); otherwise issue mints one for users when the client may refresh.
	refreshToken string
	ip           string
	// cnf is what the access token is bound to; mustJKT and mustX5T what the
	// code or refresh token redeemed was bound to, which the request must prove.
	cnf              oauth.Confirmation
	mustJKT, mustX5T string
	// target is the resource the access token is for (RFC 8707), nil for
	// the default audience; resources are what the grant was for, which the
	// refresh token remembers.
	target    *store.Resource
	resources []string
	// act is who acts for the subject (RFC 8693 §4.1); notAfter, when set,
	// is when the token the grant came from expires, which the new one
	// must not outlive; format, when set, overrides the access token's.
	act      *Actor
	notAfter time.Time
	format   string
	// noRefresh: no refresh token and no id_token (token exchange, JWT
	// bearer: the client comes back with a new subject token or assertion).
	noRefresh bool
	// exchanged is the audit detail of a token exchange; issuedType its
	// issued_token_type (RFC 8693 §2.2.1).
	exchanged  map[string]string
	issuedType string
}

// Exchange runs the token endpoint: authenticate the client, check it may use
// the grant, run the grant, issue the tokens.
func (s *Service) Exchange(ctx context.Context, req *Request) (*Response, error) {
	switch req.GrantType {
	case "":
		return nil, oauth.InvalidRequest("grant_type is required")
	case oauth.GrantClientCredentials, oauth.GrantAuthorizationCode, oauth.GrantRefreshToken, oauth.GrantPassword,
		oauth.GrantDeviceCode, oauth.GrantTokenExchange, oauth.GrantJWTBearer:
		if !slices.Contains(s.Grants(), req.GrantType) {
			return nil, oauth.UnsupportedGrantType("grant_type " + quote(req.GrantType) + " is not supported")
		}
	default:
		return nil, oauth.UnsupportedGrantType("grant_type " + quote(req.GrantType) + " is not supported")
	}
	client := req.Authenticated
	var err error
	if client == nil {
		if client, err = s.AuthenticateClient(ctx, req.Credentials); err != nil {
			s.events.Emit(secevent.Event{Type: secevent.ClientAuthFailed, ClientID: boundedID(req.Credentials.ClientID), IP: req.ClientIP})
			return nil, err
		}
	}
	if !client.AllowsGrant(req.GrantType) {
		return nil, oauth.UnauthorizedClient("the client is not allowed to use grant_type " + req.GrantType)
	}
	if req.GrantType == oauth.GrantPassword && client.Public() {
		// RFC 9700 §2.4: the password grant only ever for a client that can
		// keep a secret; a public one would let anyone try passwords as it.
		return nil, oauth.UnauthorizedClient("the password grant needs a confidential client")
	}
	if s.limits != nil {
		if err := s.limits.AllowClient(ctx, client, req.ClientIP); err != nil {
			return nil, err
		}
	}
	cnf, err := binding(client, req)
	if err != nil {
		return nil, err
	}
	if cnf, err = s.holdToProfile(client, req, cnf); err != nil {
		return nil, err
	}
	// RFC 8707 §2: checked before any grant runs, so a refused resource
	// spends no code and rotates no refresh token.
	if req.Resources, err = s.CheckResources(ctx, client, req.Resources); err != nil {
		return nil, err
	}
	var g *grant
	switch req.GrantType {
	case oauth.GrantClientCredentials:
		g, err = s.clientCredentials(ctx, client, req)
	case oauth.GrantAuthorizationCode:
		g, err = s.authorizationCode(ctx, client, req)
	case oauth.GrantRefreshToken:
		g, err = s.refreshGrant(ctx, client, req)
	case oauth.GrantPassword:
		g, err = s.passwordGrant(ctx, client, req)
	case oauth.GrantDeviceCode:
		g, err = s.deviceCodeGrant(ctx, client, req)
	case oauth.GrantTokenExchange:
		g, err = s.tokenExchange(ctx, client, req)
	case oauth.GrantJWTBearer:
		g, err = s.jwtBearer(ctx, client, req)
	}
	if err != nil {
		return nil, err
	}
	if err := g.bindTo(cnf); err != nil {
		return nil, err
	}
	g.ip = req.ClientIP
	resp, err := s.issue(ctx, g)
	if err != nil {
		return nil, err
	}
	s.events.Emit(secevent.Event{Type: secevent.TokenIssued, ClientID: client.ID, Subject: g.subject, IP: req.ClientIP,
		Detail: map[string]string{"grant_type": req.GrantType}})
	if g.exchanged != nil {
		// RFC 8693 §5: who acted for whom is what an audit of delegation needs.
		s.events.Emit(secevent.Event{Type: secevent.TokenExchanged, ClientID: client.ID, Subject: g.subject, IP: req.ClientIP,
			Detail: g.exchanged})
		resp.IssuedTokenType = g.issuedType
	}
	return resp, nil
}

// binding decides what the request's tokens are bound to: the DPoP key it
// proved, and the client certificate when the client registered for
// certificate-bound tokens. A client that registered to have every token
// bound must prove its key or certificate.
func binding(c *oauth.Client, req *Request) (oauth.Confirmation, error) {
	cnf := oauth.Confirmation{JKT: req.DPoPJKT}
	// RFC 9449 §5.2: dpop_bound_access_tokens true means requests without a
	// DPoP proof are rejected.
	if c.Metadata.DPoPBoundAccessTokens && req.DPoPJKT == "" {
		return cnf, invalidDPoPProof("this client's tokens must be DPoP-bound: send a DPoP proof")
	}
	if c.Metadata.TLSClientCertificateBoundAccessTokens {
		// RFC 8705 §3.4: the client intends its tokens to be bound to its certificate.
		if req.CertThumbprint == "" {
			return cnf, oauth.InvalidRequest("this client's tokens are bound to its certificate: connect with it (mutual TLS)")
		}
		cnf.X5TS256 = req.CertThumbprint
	}
	return cnf, nil
}

// bindTo binds the grant's tokens to cnf, after checking that a code or
// refresh token bound to a key is redeemed with proof of that key (RFC 9449
// §10.1 and §5; RFC 8705 §4).
func (g *grant) bindTo(cnf oauth.Confirmation) error {
	if g.mustJKT != "" && g.mustJKT != cnf.JKT {
		return oauth.InvalidGrant("the DPoP proof's key is not the one this grant is bound to")
	}
	if g.mustX5T != "" && g.mustX5T != cnf.X5TS256 {
		return oauth.InvalidGrant("the client certificate is not the one this grant is bound to")
	}
	g.cnf = cnf
	return nil
}

// requestBinding is everything the request proved possession of, whether or
// not the client asked for its tokens to be bound to it.
func requestBinding(req *Request) oauth.Confirmation {
	return oauth.Confirmation{JKT: req.DPoPJKT, X5TS256: req.CertThumbprint}
}

// invalidDPoPProof is RFC 9449 §5 / §7.1 invalid_dpop_proof.
func invalidDPoPProof(desc string) *oauth.Error {
	return &oauth.Error{Code: CodeInvalidDPoPProof, Description: desc, Status: 400}
}

// CodeInvalidDPoPProof is the RFC 9449 error for a missing or bad DPoP proof.
const CodeInvalidDPoPProof = "invalid_dpop_proof"

// boundedID keeps an unauthenticated client_id short enough to record.
func boundedID(id string) string {
	if len(id) > 128 {
		return id[:128]
	}
	return id
}

// resolveScope is oauth.ResolveScope: one rule for every grant and for the
// authorization endpoint.
func resolveScope(requested string, allowed []string) ([]string, error) {
	return oauth.ResolveScope(requested, allowed)
}

// quote bounds and quotes untrusted input before it goes into an error message.
func quote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	out := make([]byte, 0, len(s)+2)
	out = append(out, '"')
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '"' || r == '\\' {
			r = '?'
		}
		out = append(out, string(r)...)
	}
	return string(append(out, '"'))
}
