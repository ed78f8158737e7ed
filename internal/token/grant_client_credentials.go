package token

import (
	"context"

	"github.com/authd/authd/internal/oauth"
)

// clientCredentials is RFC 6749 §4.4: the client acts for itself, so the token's
// subject is the client (RFC 9068 §2.2).
func (s *Service) clientCredentials(ctx context.Context, c *oauth.Client, req *Request) (*grant, error) {
	if c.Public() {
		return nil, oauth.UnauthorizedClient("client_credentials needs a confidential client")
	}
	scopes, err := resolveScope(req.Scope, c.Scopes)
	if err != nil {
		return nil, err
	}
	target, err := s.target(ctx, c, req.Resources, nil)
	if err != nil {
		return nil, err
	}
	return &grant{client: c, subject: c.ID, scopes: scopes, target: target}, nil
}
