package token

import (
	"context"
	"errors"

	"github.com/authd/authd/internal/account"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/password"
)

// passwordGrant is RFC 6749 §4.3, for legacy first-party clients that are
// registered for it one by one. It goes through account.Authenticate, the same
// door as the login form, so it has every defence the form has.
func (s *Service) passwordGrant(ctx context.Context, c *oauth.Client, req *Request) (*grant, error) {
	if req.Username == "" || req.Password == "" {
		return nil, oauth.InvalidRequest("username and password are required")
	}
	scopes, err := resolveScope(req.Scope, c.Scopes)
	if err != nil {
		return nil, err
	}
	// One resource at most, as for client_credentials: the family is for
	// what this token is for.
	target, err := s.target(ctx, c, req.Resources, nil)
	if err != nil {
		return nil, err
	}
	user, err := s.accounts.Authenticate(account.WithClientIP(ctx, req.ClientIP), req.Username, req.Password)
	switch {
	case errors.Is(err, account.ErrInvalidCredentials):
		return nil, oauth.InvalidGrant("invalid username or password")
	case errors.Is(err, password.ErrBusy):
		return nil, oauth.TemporarilyUnavailable("too many logins in progress; retry shortly", 1)
	case err != nil:
		return nil, err
	}
	return &grant{
		client:      c,
		subject:     user.ID,
		scopes:      scopes,
		familyScope: scopes,
		grantID:     s.randomID(),
		authTime:    s.opts.Now(),
		user:        user,
		target:      target,
		resources:   req.Resources,
	}, nil
}
