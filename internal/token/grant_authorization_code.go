package token

import (
	"context"
	"errors"

	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/secevent"
	"github.com/authd/authd/internal/store"
)

// authorizationCode is RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.6), required for
// every client.
func (s *Service) authorizationCode(ctx context.Context, c *oauth.Client, req *Request) (*grant, error) {
	if req.Code == "" {
		return nil, oauth.InvalidRequest("code is required")
	}
	if req.CodeVerifier == "" && c.RequiresPKCE(c.Profile(s.opts.SecurityProfile)) {
		return nil, oauth.InvalidRequest("code_verifier is required (PKCE)")
	}
	now := s.opts.Now()
	code, err := s.codes.RedeemAuthCode(ctx, Hash(req.Code), now)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, oauth.InvalidGrant("the authorization code is invalid")
	case errors.Is(err, store.ErrAlreadyUsed):
		// RFC 6749 §4.1.2: a code used twice revokes what it was used for.
		if rerr := s.revokeGrant(ctx, code.GrantID); rerr != nil {
			return nil, rerr
		}
		s.events.Emit(secevent.Event{Type: secevent.CodeReused, ClientID: c.ID, Subject: code.Subject, IP: req.ClientIP})
		return nil, oauth.InvalidGrant("the authorization code was already used")
	case err != nil:
		return nil, err
	}
	// The code is spent from here on, whatever goes wrong below.
	if code.ClientID != c.ID {
		return nil, oauth.InvalidGrant("the authorization code was issued to another client")
	}
	if !code.ExpiresAt.After(now) {
		return nil, oauth.InvalidGrant("the authorization code has expired")
	}
	// RFC 6749 §4.1.3: identical to the authorization request's, if it had one.
	if req.RedirectURI != code.RedirectURI {
		return nil, oauth.InvalidGrant("redirect_uri does not match the authorization request")
	}
	switch {
	case code.CodeChallenge == "" && req.CodeVerifier != "":
		// RFC 9700 §2.1.1 (PKCE downgrade, §4.8.2): a code_verifier for a
		// code whose request had no code_challenge is refused.
		return nil, oauth.InvalidGrant("code_verifier sent for a code requested without PKCE")
	case code.CodeChallenge == "":
		// A client exempt from PKCE (require_pkce false) asked without it;
		// its id_token's nonce protects the code instead.
	case req.CodeVerifier == "":
		return nil, oauth.InvalidRequest("code_verifier is required (PKCE): the code was requested with a code_challenge")
	case !oauth.VerifyPKCE(req.CodeVerifier, code.CodeChallenge):
		return nil, oauth.InvalidGrant("code_verifier does not match the code_challenge")
	}
	user, err := s.activeUser(ctx, code.Subject)
	if err != nil {
		return nil, err
	}
	if user.Generation != code.UserGeneration {
		// The code came from a session that a password change ended.
		return nil, oauth.InvalidGrant("the authorization code was issued before the user's password changed or the account was disabled")
	}
	// RFC 8707 §2.2: the token is for one of the resources granted.
	target, err := s.target(ctx, c, req.Resources, code.Resources)
	if err != nil {
		return nil, err
	}
	scopes := oauth.ParseScope(code.Scope)
	return &grant{
		client:      c,
		subject:     code.Subject,
		scopes:      scopes,
		familyScope: scopes,
		grantID:     code.GrantID,
		authTime:    code.AuthTime,
		nonce:       code.Nonce,
		sid:         code.SID,
		user:        user,
		mustJKT:     code.DPoPJKT, // RFC 9449 §10.1
		target:      target,
		resources:   code.Resources,
	}, nil
}

// activeUser returns the user if they still exist and are not disabled.
func (s *Service) activeUser(ctx context.Context, subject string) (*store.User, error) {
	u, err := s.accounts.User(ctx, subject)
	if errors.Is(err, store.ErrNotFound) {
		return nil, oauth.InvalidGrant("the user no longer exists")
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, oauth.InvalidGrant("the user is disabled")
	}
	return u, nil
}

// revokeGrant revokes everything issued from a grant. The marker is written
// before the rows are deleted, so a token issued concurrently either sees the
// marker (and is refused) or was written before the deletion (and is deleted).
func (s *Service) revokeGrant(ctx context.Context, grantID string) error {
	if grantID == "" {
		return nil
	}
	until := s.opts.Now().Add(max(s.opts.RefreshTTL, s.opts.MaxTTL))
	if err := s.revoke(ctx, GrantRevocationID(grantID), until); err != nil {
		return err
	}
	return s.refresh.RevokeGrant(ctx, grantID)
}
