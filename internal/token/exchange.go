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

	// ClientIP is the caller's address, for limits and security events.
	ClientIP string
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
}

// grant is what a grant decides: who the token is for and with which scope.
type grant struct {
	client   *oauth.Client
	subject  string
	scopes   []string // the access token's scope
	grantID  string   // "" for client_credentials
	authTime time.Time
	nonce    string
	// user is the person the tokens are for; nil for client_credentials.
	user *store.User
	// familyScope is the scope of the refresh-token family (what was granted),
	// which a refresh may narrow for one access token but never widen.
	familyScope []string
	// refreshToken is set when the grant already minted the next refresh token
	// (rotation); otherwise issue mints one for users when the client may refresh.
	refreshToken string
	ip           string
}

// Exchange runs the token endpoint: authenticate the client, check it may use
// the grant, run the grant, issue the tokens.
func (s *Service) Exchange(ctx context.Context, req *Request) (*Response, error) {
	switch req.GrantType {
	case "":
		return nil, oauth.InvalidRequest("grant_type is required")
	case oauth.GrantClientCredentials, oauth.GrantAuthorizationCode, oauth.GrantRefreshToken, oauth.GrantPassword:
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
	var g *grant
	switch req.GrantType {
	case oauth.GrantClientCredentials:
		g, err = s.clientCredentials(client, req)
	case oauth.GrantAuthorizationCode:
		g, err = s.authorizationCode(ctx, client, req)
	case oauth.GrantRefreshToken:
		g, err = s.refreshGrant(ctx, client, req)
	case oauth.GrantPassword:
		g, err = s.passwordGrant(ctx, client, req)
	}
	if err != nil {
		return nil, err
	}
	g.ip = req.ClientIP
	resp, err := s.issue(ctx, g)
	if err != nil {
		return nil, err
	}
	s.events.Emit(secevent.Event{Type: secevent.TokenIssued, ClientID: client.ID, Subject: g.subject, IP: req.ClientIP,
		Detail: map[string]string{"grant_type": req.GrantType}})
	return resp, nil
}

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
