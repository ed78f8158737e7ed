package token

import "github.com/authd/authd/internal/oauth"

// clientCredentials is RFC 6749 §4.4: the client acts for itself, so the token's
// subject is the client (RFC 9068 §2.2).
func (s *Service) clientCredentials(c *oauth.Client, req *Request) (*grant, error) {
	if c.Public() {
		return nil, oauth.UnauthorizedClient("client_credentials needs a confidential client")
	}
	scopes, err := resolveScope(req.Scope, c.Scopes)
	if err != nil {
		return nil, err
	}
	return &grant{client: c, subject: c.ID, scopes: scopes}, nil
}
