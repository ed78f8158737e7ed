package token

import (
	"context"
	"errors"
	"time"

	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/secevent"
	"github.com/authd/authd/internal/store"
)

// refreshGrant is RFC 6749 §6 with rotation: every use returns a new refresh
// token, and presenting a rotated one again revokes the whole family (RFC 9700
// §4.14.2). The rotation is one atomic store operation, so of N concurrent uses
// exactly one rotates.
//
// A retry is not an attack: two tabs, or a client that timed out and asks
// again, present the token they hold twice within moments. The same client
// presenting a token rotated no more than RefreshReuseGrace ago gets working
// tokens of the same family (a sibling refresh token) instead of having the
// family revoked; after the window, reuse revokes the family as before.
func (s *Service) refreshGrant(ctx context.Context, c *oauth.Client, req *Request) (*grant, error) {
	if req.RefreshToken == "" {
		return nil, oauth.InvalidRequest("refresh_token is required")
	}
	if !s.wellFormed(req.RefreshToken) {
		return nil, oauth.InvalidGrant("the refresh token is invalid")
	}
	now := s.opts.Now()
	h := Hash(req.RefreshToken)
	// Read first, to copy the family into the next token and to check the
	// client before spending the token. The rotation alone decides who wins.
	cur, err := s.refresh.RefreshToken(ctx, h)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if err == nil && cur.ClientID != c.ID {
		// A refresh token presented by another client was stolen: the family dies.
		if rerr := s.revokeGrant(ctx, cur.GrantID); rerr != nil {
			return nil, rerr
		}
		return nil, oauth.InvalidGrant("the refresh token was issued to another client")
	}
	if err == nil && !cur.ExpiresAt.After(now) {
		return nil, oauth.InvalidGrant("the refresh token has expired")
	}
	// A bound refresh token (a public client's, RFC 9449 §5, RFC 8705 §4) is
	// refused, unspent, without proof of its key or certificate: whoever
	// copied it cannot use it, nor spend it to revoke the family.
	if cur != nil {
		if err := (&grant{mustJKT: cur.Cnf.JKT, mustX5T: cur.Cnf.X5TS256}).bindTo(requestBinding(req)); err != nil {
			return nil, err
		}
	}
	var scopes []string
	var target *store.Resource
	if cur != nil {
		// RFC 6749 §6: a narrower scope may be asked for, never a wider one.
		// Checked before the rotation so a refused request does not spend the token.
		if scopes, err = resolveScope(req.Scope, oauth.ParseScope(cur.Scope)); err != nil {
			return nil, err
		}
		// RFC 8707 §2.2: likewise one of the family's resources, never another.
		if target, err = s.target(ctx, c, req.Resources, cur.Resources); err != nil {
			return nil, err
		}
	}
	nextValue := s.randomToken()
	next := &store.RefreshToken{Hash: Hash(nextValue), ClientID: c.ID, IssuedAt: now, ExpiresAt: now.Add(s.opts.RefreshTTL)}
	if cur != nil {
		next.GrantID, next.Subject, next.Scope, next.AuthTime, next.UserGeneration, next.Cnf =
			cur.GrantID, cur.Subject, cur.Scope, cur.AuthTime, cur.UserGeneration, cur.Cnf
		next.Resources = cur.Resources
	}
	old, err := s.refresh.RotateRefreshToken(ctx, h, next, now)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, oauth.InvalidGrant("the refresh token is invalid")
	case errors.Is(err, store.ErrAlreadyUsed):
		if old.Revoked {
			// Nothing more to revoke, and it says so rather than "reused".
			if old.UsedAt.IsZero() {
				return nil, oauth.InvalidGrant("the refresh token has been revoked")
			}
			return nil, oauth.InvalidGrant("the refresh token was already used, and its grant has since been revoked")
		}
		if !s.withinReuseGrace(c, old, now) {
			if rerr := s.revokeGrant(ctx, old.GrantID); rerr != nil {
				return nil, rerr
			}
			s.events.Emit(secevent.Event{Type: secevent.RefreshReused, ClientID: c.ID, Subject: old.Subject, IP: req.ClientIP})
			return nil, oauth.InvalidGrant("the refresh token was already used, so its grant is now revoked (refresh token reuse)")
		}
		if !old.ExpiresAt.After(now) {
			return nil, oauth.InvalidGrant("the refresh token has expired")
		}
		// A retry within the grace window: a sibling in the same family.
		if scopes, err = resolveScope(req.Scope, oauth.ParseScope(old.Scope)); err != nil {
			return nil, err
		}
		if target, err = s.target(ctx, c, req.Resources, old.Resources); err != nil {
			return nil, err
		}
		next.GrantID, next.Subject, next.Scope, next.AuthTime, next.UserGeneration, next.Cnf =
			old.GrantID, old.Subject, old.Scope, old.AuthTime, old.UserGeneration, old.Cnf
		next.Resources = old.Resources
		if err := (&grant{mustJKT: old.Cnf.JKT, mustX5T: old.Cnf.X5TS256}).bindTo(requestBinding(req)); err != nil {
			return nil, err
		}
		if err := s.refresh.CreateRefreshToken(ctx, next); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	}
	family := oauth.ParseScope(old.Scope)
	if scopes == nil {
		scopes = family
	}
	user, err := s.activeUser(ctx, old.Subject)
	if err == nil && user.Generation != old.UserGeneration {
		err = oauth.InvalidGrant("the refresh token was revoked: the user's password changed or the account was disabled")
	}
	if err != nil {
		if rerr := s.revokeGrant(ctx, old.GrantID); rerr != nil {
			return nil, rerr
		}
		return nil, err
	}
	return &grant{
		client:       c,
		subject:      old.Subject,
		scopes:       scopes,
		familyScope:  family,
		grantID:      old.GrantID,
		authTime:     old.AuthTime,
		user:         user,
		refreshToken: nextValue,
		mustJKT:      old.Cnf.JKT,
		mustX5T:      old.Cnf.X5TS256,
		target:       target,
		resources:    old.Resources,
	}, nil
}

// withinReuseGrace reports whether presenting the used token old again is a
// retry by its own client moments after it rotated, rather than a replay.
func (s *Service) withinReuseGrace(c *oauth.Client, old *store.RefreshToken, now time.Time) bool {
	grace := s.opts.RefreshReuseGrace
	if c.Profile(s.opts.SecurityProfile) == oauth.ProfileFAPI2 {
		// FAPI 2.0 Security Profile §5.3.2: rotation only with a window in
		// which a client that lost the answer can retry, whatever the
		// server's default says.
		grace = max(grace, FAPI2RefreshGrace)
	}
	return grace > 0 && old.ClientID == c.ID && !old.UsedAt.IsZero() && now.Sub(old.UsedAt) <= grace
}

// FAPI2RefreshGrace is the least reuse grace of a fapi2 client's refresh
// tokens.
const FAPI2RefreshGrace = 2 * time.Second
