package token

import (
	"context"
	"errors"
	"time"

	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/secevent"
	"github.com/authd/authd/internal/store"
)

// Revoke is RFC 7009 for an authenticated client. Invalid, unknown and expired
// tokens are not an error (RFC 7009 §2.2). A token issued to another client is
// refused with unauthorized_client (§2.1) and left alone.
func (s *Service) Revoke(ctx context.Context, client *oauth.Client, tok string) error {
	if tok == "" {
		return oauth.InvalidRequest("token is required")
	}
	if len(tok) > MaxTokenLength {
		return nil
	}
	if isJWT(tok) {
		info := s.verifyJWT(ctx, tok)
		if !info.Active {
			return nil
		}
		if info.ClientID != client.ID {
			return oauth.UnauthorizedClient("the token was not issued to this client")
		}
		// The entry must outlive the token; exp is when the token dies anyway.
		s.events.Emit(secevent.Event{Type: secevent.TokenRevoked, ClientID: client.ID, Subject: info.Sub, Detail: map[string]string{"kind": "jwt"}})
		return s.revoke(ctx, info.Jti, time.Unix(info.Exp, 0))
	}
	if isSealed(tok) {
		info := s.sealedInfo(tok)
		if !info.Active {
			return nil
		}
		if info.ClientID != client.ID {
			return oauth.UnauthorizedClient("the token was not issued to this client")
		}
		s.events.Emit(secevent.Event{Type: secevent.TokenRevoked, ClientID: client.ID, Subject: info.Sub, Detail: map[string]string{"kind": "opaque"}})
		return s.revoke(ctx, info.sealedID, time.Unix(info.Exp, 0))
	}
	if !s.wellFormed(tok) {
		return nil // RFC 7009 §2.2: an invalid token is not an error
	}
	h := Hash(tok)
	rec, err := s.tokens.AccessToken(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return s.revokeRefresh(ctx, client, h)
	}
	if err != nil {
		return err
	}
	if rec.ClientID != client.ID {
		return oauth.UnauthorizedClient("the token was not issued to this client")
	}
	if err := s.tokens.DeleteAccessToken(ctx, h); err != nil {
		return err
	}
	s.events.Emit(secevent.Event{Type: secevent.TokenRevoked, ClientID: client.ID, Subject: rec.Subject, Detail: map[string]string{"kind": "opaque"}})
	return s.invalidate(ctx, hashKey(kindAT, h))
}

// revokeRefresh revokes a refresh token and, as RFC 7009 §2.1 suggests, every
// token of its grant.
func (s *Service) revokeRefresh(ctx context.Context, client *oauth.Client, h []byte) error {
	if s.refresh == nil {
		return nil
	}
	rt, err := s.refresh.RefreshToken(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if rt.ClientID != client.ID {
		return oauth.UnauthorizedClient("the token was not issued to this client")
	}
	s.events.Emit(secevent.Event{Type: secevent.TokenRevoked, ClientID: client.ID, Subject: rt.Subject, Detail: map[string]string{"kind": "refresh_token"}})
	return s.revokeGrant(ctx, rt.GrantID)
}
