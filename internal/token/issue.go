package token

import (
	"context"
	"encoding/json"
	"time"

	"github.com/authd/authd/internal/keys"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/store"
)

// TypeAccessTokenJWT is the JOSE typ of JWT access tokens (RFC 9068 §2.1).
const TypeAccessTokenJWT = "at+jwt"

// accessClaims are the RFC 9068 §2.2 claims of a JWT access token.
type accessClaims struct {
	Iss      string   `json:"iss"`
	Sub      string   `json:"sub"`
	Aud      audience `json:"aud"`
	Exp      int64    `json:"exp"`
	Iat      int64    `json:"iat"`
	Nbf      int64    `json:"nbf,omitempty"`
	Jti      string   `json:"jti"`
	ClientID string   `json:"client_id"`
	Scope    string   `json:"scope,omitempty"`
	AuthTime int64    `json:"auth_time,omitempty"`
	// Gid names the authorization grant the token came from, so revoking the grant
	// (a replayed code, a reused refresh token) revokes its JWTs too.
	Gid string `json:"gid,omitempty"`
	// Ugen is the user's generation at issuance (store.User.Generation): a
	// password change or disabling moves it on and so ends the token.
	Ugen int64 `json:"ugen,omitempty"`
	// Cnf binds the token to a DPoP key (RFC 9449 §6.1) or a client
	// certificate (RFC 8705 §3.1).
	Cnf *oauth.Confirmation `json:"cnf,omitempty"`
	// Act is who acts for the subject (RFC 8693 §4.1), nested down to the
	// first actor.
	Act *Actor `json:"act,omitempty"`
}

// audience is a JWT aud: one string or an array (RFC 7519 §4.1.3).
type audience []string

func (a audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

func (a *audience) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = audience{s}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(a))
}

// issue mints the tokens for a decided grant: the access token in the client's
// format, for people a refresh token when the client may refresh, and an
// id_token when openid was granted.
func (s *Service) issue(ctx context.Context, g *grant) (*Response, error) {
	now := s.opts.Now()
	at := s.accessTokenShape(g)
	if !g.notAfter.IsZero() {
		// RFC 8693 §2.2.1 leaves the lifetime to the server; a token
		// exchanged from another lives no longer than that one, so
		// exchanging cannot prolong what was granted.
		if left := g.notAfter.Sub(now); left < at.ttl {
			at.ttl = left
		}
		if at.ttl < time.Second {
			return nil, oauth.InvalidRequest("the token to exchange expires too soon")
		}
	}
	var cnf *oauth.Confirmation
	if g.cnf.Bound() {
		cnf = &g.cnf
	}
	resp := &Response{TokenType: tokenType(cnf), ExpiresIn: int64(at.ttl / time.Second), Scope: oauth.JoinScope(at.scopes)}
	var err error
	if resp.AccessToken, err = s.accessToken(ctx, g, at, now); err != nil {
		return nil, err
	}
	if g.user == nil {
		return resp, nil
	}
	resp.RefreshToken = g.refreshToken
	if resp.RefreshToken == "" && !g.noRefresh && g.client.AllowsGrant(oauth.GrantRefreshToken) {
		resp.RefreshToken = s.randomToken()
		err := s.refresh.CreateRefreshToken(ctx, &store.RefreshToken{
			Hash:           Hash(resp.RefreshToken),
			GrantID:        g.grantID,
			ClientID:       g.client.ID,
			Subject:        g.subject,
			Scope:          oauth.JoinScope(g.familyScope),
			AuthTime:       g.authTime,
			UserGeneration: g.user.Generation,
			Cnf:            g.refreshCnf(),
			Resources:      g.resources,
			IssuedAt:       now,
			ExpiresAt:      now.Add(s.opts.RefreshTTL),
		})
		if err != nil {
			return nil, err
		}
	}
	if oauth.HasScope(g.scopes, "openid") && !g.noRefresh {
		if resp.IDToken, err = s.idToken(g, resp.AccessToken, now); err != nil {
			return nil, err
		}
	}
	// The tokens are written; if the grant was revoked meanwhile (a replayed
	// code, a reused refresh token), they must not be handed out.
	revoked, err := s.revoked.Revoked(ctx, []string{GrantRevocationID(g.grantID)})
	if err != nil {
		return nil, err
	}
	if len(revoked) > 0 {
		if err := s.refresh.RevokeGrant(ctx, g.grantID); err != nil {
			return nil, err
		}
		return nil, oauth.InvalidGrant("the grant has been revoked")
	}
	return resp, nil
}

// refreshCnf is what a new refresh token is bound to: a public client's
// refresh token is bound to the key or certificate its access token is
// (RFC 9449 §5; RFC 8705 §4), since nothing else proves who presents it; a
// confidential client proves itself at every refresh instead.
func (g *grant) refreshCnf() oauth.Confirmation {
	if g.client.Public() {
		return g.cnf
	}
	return oauth.Confirmation{}
}

// shape is what an access token is like: for a resource (RFC 8707), its
// audience is the resource, its scope what the grant decided cut to what the
// resource defines, and its format and lifetime the resource's (bounded by
// MaxTTL); otherwise the server's audience and the client's settings.
type shape struct {
	aud    []string
	scopes []string
	format string
	ttl    time.Duration
}

func (s *Service) accessTokenShape(g *grant) shape {
	sh := shape{aud: s.opts.Audience, scopes: g.scopes, format: g.client.AccessTokenFormat, ttl: s.ttlFor(g.client)}
	if r := g.target; r != nil {
		sh.aud, sh.scopes = []string{r.Indicator}, cutScope(g.scopes, r)
		if r.AccessTokenFormat != "" {
			sh.format = r.AccessTokenFormat
		}
		if r.AccessTokenTTL > 0 {
			sh.ttl = min(r.AccessTokenTTL, s.opts.MaxTTL)
		}
	}
	if g.format != "" {
		sh.format = g.format
	}
	return sh
}

func (s *Service) accessToken(ctx context.Context, g *grant, at shape, now time.Time) (string, error) {
	exp := now.Add(at.ttl)
	scope := oauth.JoinScope(at.scopes)
	if at.format == oauth.FormatOpaque && s.sealer != nil && !s.opts.StoreOpaque {
		c := &sealedClaims{
			Sub:      g.subject,
			ClientID: g.client.ID,
			Aud:      at.aud,
			Scope:    scope,
			Exp:      exp.Unix(),
			Iat:      now.Unix(),
			Jti:      s.randomID(),
			Gid:      g.grantID,
			Act:      g.act,
		}
		if g.cnf.Bound() {
			c.Cnf = &g.cnf
		}
		if g.user != nil {
			c.Ugen = g.user.Generation
		}
		return s.sealer.seal(c, s.opts.Random), nil
	}
	if at.format == oauth.FormatOpaque {
		tok := s.randomToken()
		rec := &store.AccessToken{
			Hash:      Hash(tok),
			ClientID:  g.client.ID,
			Subject:   g.subject,
			Scope:     scope,
			Audience:  at.aud,
			GrantID:   g.grantID,
			Cnf:       g.cnf,
			Act:       g.act.encode(),
			IssuedAt:  now,
			ExpiresAt: exp,
		}
		if g.user != nil {
			rec.UserGeneration = g.user.Generation
		}
		if err := s.tokens.CreateAccessTokens(ctx, []*store.AccessToken{rec}); err != nil {
			return "", err
		}
		return tok, nil
	}
	claims := accessClaims{
		Iss:      s.opts.Issuer,
		Sub:      g.subject,
		Aud:      at.aud,
		Exp:      exp.Unix(),
		Iat:      now.Unix(),
		Nbf:      now.Unix(),
		Jti:      s.randomID(),
		ClientID: g.client.ID,
		Scope:    scope,
		Gid:      g.grantID,
		Act:      g.act,
	}
	if g.cnf.Bound() {
		claims.Cnf = &g.cnf
	}
	if g.user != nil {
		claims.Ugen = g.user.Generation
	}
	if !g.authTime.IsZero() {
		claims.AuthTime = g.authTime.Unix()
	}
	payload, err := json.Marshal(&claims)
	if err != nil {
		return "", err
	}
	return s.signer.Sign(keys.PurposeAccess, TypeAccessTokenJWT, payload)
}
