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
func (s *Service) UserInfo(ctx context.Context, accessToken string) (*UserInfo, error) {
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
