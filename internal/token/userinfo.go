package token

import (
	"context"
	"errors"

	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/store"
)

// UserInfo is the OpenID Connect Core §5.3.2 response.
type UserInfo struct {
	Sub string `json:"sub"`
	userClaims
}

// UserInfo answers the userinfo endpoint for a bearer access token: it must be
// active, carry the openid scope and belong to a person who is still enabled.
func (s *Service) UserInfo(ctx context.Context, accessToken string, held Possession) (*UserInfo, error) {
	if s.accounts == nil {
		return nil, oauth.InvalidToken("the access token is not valid")
	}
	info, err := s.Introspect(ctx, accessToken)
	if err != nil {
		return nil, err
	}
	if !info.Active {
		return nil, oauth.InvalidToken("the access token is not valid")
	}
	if err := held.proves(info.Cnf); err != nil {
		return nil, err
	}
	scopes := oauth.ParseScope(info.Scope)
	if !oauth.HasScope(scopes, "openid") {
		return nil, oauth.InsufficientScope("the access token lacks the openid scope")
	}
	u, err := s.accounts.User(ctx, info.Sub)
	if errors.Is(err, store.ErrNotFound) {
		return nil, oauth.InvalidToken("the access token is not valid")
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, oauth.InvalidToken("the access token is not valid")
	}
	return &UserInfo{Sub: u.ID, userClaims: claimsFor(u, scopes)}, nil
}

// Possession is what a request to a protected resource proved it holds: the
// Authorization scheme it used, the key of its verified DPoP proof (whose
// ath matched the token), and the thumbprint of its client certificate.
type Possession struct {
	Scheme         string // "Bearer" or "DPoP"
	DPoPJKT        string
	CertThumbprint string
}

// proves checks a bound token is presented by its holder: a DPoP-bound one
// with the DPoP scheme and a proof by its key (RFC 9449 §7.1), a
// certificate-bound one over a connection with its certificate (RFC 8705
// §3). A bearer token presented as DPoP is refused too: the client thinks it
// holds a bound token, and is mistaken.
func (p Possession) proves(cnf *oauth.Confirmation) error {
	var c oauth.Confirmation
	if cnf != nil {
		c = *cnf
	}
	switch {
	case c.JKT != "" && p.Scheme != "DPoP":
		return oauth.InvalidToken("a DPoP-bound token is presented with the DPoP scheme and a proof")
	case c.JKT != "" && p.DPoPJKT != c.JKT:
		return oauth.InvalidToken("the DPoP proof is not made with the key the token is bound to")
	case c.JKT == "" && p.Scheme == "DPoP":
		return oauth.InvalidToken("the token is not DPoP-bound; present it as Bearer")
	case c.X5TS256 != "" && p.CertThumbprint != c.X5TS256:
		return oauth.InvalidToken("the token is bound to a client certificate this connection does not present")
	}
	return nil
}
