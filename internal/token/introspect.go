package token

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/store"
)

// MaxTokenLength bounds what introspection and revocation will even parse; no
// token authd issues comes near it.
const MaxTokenLength = 4096

// MaxBatch is the most tokens one batch introspection may carry.
const MaxBatch = 100

// Info is an RFC 7662 §2.2 introspection response. An inactive token is only
// {"active":false}: nothing about why (RFC 7662 §2.2, §4).
type Info struct {
	Active    bool     `json:"active"`
	Scope     string   `json:"scope,omitempty"`
	ClientID  string   `json:"client_id,omitempty"`
	Username  string   `json:"username,omitempty"`
	TokenType string   `json:"token_type,omitempty"`
	Exp       int64    `json:"exp,omitempty"`
	Iat       int64    `json:"iat,omitempty"`
	Nbf       int64    `json:"nbf,omitempty"`
	Sub       string   `json:"sub,omitempty"`
	Aud       audience `json:"aud,omitempty"`
	Iss       string   `json:"iss,omitempty"`
	Jti       string   `json:"jti,omitempty"`

	// grantID is internal: used to check grant-wide revocation.
	grantID string
}

var inactive = &Info{}

// Inactive returns the shared {"active":false} answer.
func Inactive() *Info { return inactive }

// isJWT tells the two formats apart without parsing: opaque tokens are
// base64url and never contain a dot.
func isJWT(tok string) bool { return strings.Count(tok, ".") == 2 }

// Introspect answers RFC 7662 for one token. Unknown, expired, malformed and
// revoked tokens are inactive, not errors; an error means the answer could not be
// determined (the store failed) and must not be taken for inactive or active.
func (s *Service) Introspect(ctx context.Context, tok string) (*Info, error) {
	if tok == "" || len(tok) > MaxTokenLength {
		return inactive, nil
	}
	if isJWT(tok) {
		info := s.verifyJWT(ctx, tok)
		if !info.Active {
			return inactive, nil
		}
		revoked, err := s.revoked.Revoked(ctx, revocationIDs(info))
		if err != nil {
			return nil, err
		}
		if len(revoked) > 0 {
			return inactive, nil
		}
		return info, nil
	}
	return s.introspectOpaque(ctx, tok)
}

func revocationIDs(info *Info) []string {
	if info.grantID != "" {
		return []string{info.Jti, GrantRevocationID(info.grantID)}
	}
	return []string{info.Jti}
}

// GrantRevocationID is the Revocations id that revokes every JWT of a grant.
func GrantRevocationID(grantID string) string { return "grant:" + grantID }

// verifyJWT checks signature, type, issuer and time; the revocation check is the
// caller's, so batches can make it once for many tokens.
func (s *Service) verifyJWT(ctx context.Context, tok string) *Info {
	payload, err := s.signer.Verify(ctx, tok, TypeAccessTokenJWT)
	if err != nil {
		return inactive
	}
	var c accessClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return inactive
	}
	now := s.opts.Now().Unix()
	leeway := int64(s.opts.Leeway.Seconds())
	if c.Iss != s.opts.Issuer || c.Jti == "" || c.Exp <= now || (c.Nbf != 0 && c.Nbf > now+leeway) || c.Iat > now+leeway {
		return inactive
	}
	return &Info{
		Active:    true,
		Scope:     c.Scope,
		ClientID:  c.ClientID,
		TokenType: "Bearer",
		Exp:       c.Exp,
		Iat:       c.Iat,
		Nbf:       c.Nbf,
		Sub:       c.Sub,
		Aud:       c.Aud,
		Iss:       c.Iss,
		Jti:       c.Jti,
		grantID:   c.Gid,
	}
}

func (s *Service) introspectOpaque(ctx context.Context, tok string) (*Info, error) {
	rec, err := s.tokens.AccessToken(ctx, Hash(tok))
	if errors.Is(err, store.ErrNotFound) {
		return inactive, nil
	}
	if err != nil {
		return nil, err
	}
	if !rec.ExpiresAt.After(s.opts.Now()) {
		return inactive, nil
	}
	return &Info{
		Active:    true,
		Scope:     rec.Scope,
		ClientID:  rec.ClientID,
		TokenType: "Bearer",
		Exp:       rec.ExpiresAt.Unix(),
		Iat:       rec.IssuedAt.Unix(),
		Nbf:       rec.IssuedAt.Unix(),
		Sub:       rec.Subject,
		Aud:       rec.Audience,
		Iss:       s.opts.Issuer,
		grantID:   rec.GrantID,
	}, nil
}

// IntrospectBatch answers for up to MaxBatch tokens, in order. JWT revocation is
// checked with one store call for the whole batch.
func (s *Service) IntrospectBatch(ctx context.Context, toks []string) ([]*Info, error) {
	if len(toks) > MaxBatch {
		return nil, oauth.InvalidRequest("at most 100 tokens per batch")
	}
	out := make([]*Info, len(toks))
	var ids []string
	for i, tok := range toks {
		switch {
		case tok == "" || len(tok) > MaxTokenLength:
			out[i] = inactive
		case isJWT(tok):
			out[i] = s.verifyJWT(ctx, tok)
			if out[i].Active {
				ids = append(ids, revocationIDs(out[i])...)
			}
		default:
			info, err := s.introspectOpaque(ctx, tok)
			if err != nil {
				return nil, err
			}
			out[i] = info
		}
	}
	if len(ids) == 0 {
		return out, nil
	}
	revoked, err := s.revoked.Revoked(ctx, ids)
	if err != nil {
		return nil, err
	}
	if len(revoked) == 0 {
		return out, nil
	}
	set := make(map[string]struct{}, len(revoked))
	for _, id := range revoked {
		set[id] = struct{}{}
	}
	for i, info := range out {
		if !info.Active || !isJWT(toks[i]) {
			continue
		}
		for _, id := range revocationIDs(info) {
			if _, ok := set[id]; ok {
				out[i] = inactive
				break
			}
		}
	}
	return out, nil
}
