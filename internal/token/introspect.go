package token

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/authd/authd/internal/keys"
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
	// Cnf is what the token is bound to (RFC 9449 §6.2, RFC 8705 §3.2): a
	// resource server must see the holder prove it.
	Cnf *oauth.Confirmation `json:"cnf,omitempty"`
	// Act is who acts for the subject (RFC 8693 §4.1, §2.2.1 for
	// introspection): a resource server sees the whole delegation chain.
	Act *Actor `json:"act,omitempty"`

	// grantID is internal: used to check grant-wide revocation.
	grantID string
	// userGen is the user's generation the token was issued under.
	userGen int64
	// sealedID is a sealed token's revocation id (its jti, not shown: a
	// stored opaque token's answer has none either).
	sealedID string
	// raw is the rendered JSON of a shared (cached) answer.
	raw []byte
}

var inactive = func() *Info { i := &Info{}; i.render(); return i }()

// isJWT tells the two formats apart without parsing: opaque tokens are
// base64url and never contain a dot.
func isJWT(tok string) bool { return strings.Count(tok, ".") == 2 }

// Introspect answers RFC 7662 for one token. Unknown, expired, malformed and
// revoked tokens are inactive, not errors; an error means the answer could not be
// determined (the store failed) and must not be taken for inactive or active.
func (s *Service) Introspect(ctx context.Context, tok string) (*Info, error) {
	info, err := s.lookup(ctx, tok)
	if err != nil || !info.Active {
		return info, err
	}
	out := []*Info{info}
	if err := s.screen(ctx, []string{tok}, out); err != nil {
		return nil, err
	}
	return out[0], nil
}

// lookup answers for one token without the revocation check.
func (s *Service) lookup(ctx context.Context, tok string) (*Info, error) {
	switch {
	case tok == "" || len(tok) > MaxTokenLength:
		return inactive, nil
	case isJWT(tok):
		return s.jwtInfo(ctx, tok)
	case isSealed(tok):
		return s.sealedInfo(tok), nil
	case !s.wellFormed(tok):
		return inactive, nil
	}
	info, err := s.opaqueInfo(ctx, Hash(tok))
	if err != nil || !info.Active {
		return info, err
	}
	if info.Exp <= s.opts.Now().Unix() {
		return inactive, nil
	}
	return info, nil
}

// revocationIDs are the Revocations entries that would make info inactive: a
// JWT's or a sealed token's jti, and for tokens issued to people their grant.
// A revoked stored opaque token is deleted, so it needs no entry of its own; a person's deletion,
// disabling or password change is checked against the user (userEnds).
func revocationIDs(info *Info, jwt bool) []string {
	var ids []string
	if jwt {
		ids = append(ids, info.Jti)
	}
	if info.sealedID != "" {
		ids = append(ids, info.sealedID)
	}
	if info.grantID != "" {
		ids = append(ids, GrantRevocationID(info.grantID))
	}
	return ids
}

// tokenType is the token_type of a token bound as cnf says: DPoP for a
// DPoP-bound one (RFC 9449 §5, §6.2), Bearer otherwise (a certificate-bound
// token is still presented as Bearer, RFC 8705 §3).
func tokenType(cnf *oauth.Confirmation) string {
	if cnf != nil && cnf.JKT != "" {
		return "DPoP"
	}
	return "Bearer"
}

// GrantRevocationID is the Revocations id that revokes every JWT of a grant.
func GrantRevocationID(grantID string) string { return "grant:" + grantID }

// withinLifetime reports whether a token issued at iat and expiring at exp
// (Unix seconds) is live now, issued no later than now (with the leeway),
// and no longer-lived than MaxTTL: one that claims to (an exp in 2400) was
// not minted by this server's rules, whatever its signature or seal.
func (s *Service) withinLifetime(iat, exp int64) bool {
	now := s.opts.Now().Unix()
	leeway := int64(s.opts.Leeway.Seconds())
	maxTTL := int64(s.opts.MaxTTL.Seconds()) + leeway
	return exp > now && iat <= now+leeway && exp-iat <= maxTTL && exp <= now+maxTTL
}

// verifyJWT checks signature, type, issuer and time; the revocation check is the
// caller's, so batches can make it once for many tokens.
func (s *Service) verifyJWT(ctx context.Context, tok string) *Info {
	// Only access-token keys: an id_token key's signature proves nothing here.
	payload, err := s.signer.VerifyFor(ctx, tok, TypeAccessTokenJWT, keys.PurposeAccess)
	if err != nil {
		return inactive
	}
	var c accessClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return inactive
	}
	now := s.opts.Now().Unix()
	if c.Iss != s.opts.Issuer || c.Jti == "" || (c.Nbf != 0 && c.Nbf > now+int64(s.opts.Leeway.Seconds())) || !s.withinLifetime(c.Iat, c.Exp) {
		return inactive
	}
	return &Info{
		Active:    true,
		Scope:     c.Scope,
		ClientID:  c.ClientID,
		TokenType: tokenType(c.Cnf),
		Cnf:       c.Cnf,
		Exp:       c.Exp,
		Iat:       c.Iat,
		Nbf:       c.Nbf,
		Sub:       c.Sub,
		Aud:       c.Aud,
		Iss:       c.Iss,
		Jti:       c.Jti,
		Act:       c.Act,
		grantID:   c.Gid,
		userGen:   c.Ugen,
	}
}

func (s *Service) opaqueFromStore(ctx context.Context, h []byte) (*Info, error) {
	rec, err := s.tokens.AccessToken(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return inactive, nil
	}
	if err != nil {
		return nil, err
	}
	if !rec.ExpiresAt.After(s.opts.Now()) {
		return inactive, nil
	}
	var cnf *oauth.Confirmation
	if rec.Cnf.Bound() {
		cnf = &rec.Cnf
	}
	act, err := decodeActor(rec.Act)
	if err != nil {
		return nil, err
	}
	return &Info{
		Act:       act,
		Active:    true,
		Scope:     rec.Scope,
		ClientID:  rec.ClientID,
		TokenType: tokenType(cnf),
		Cnf:       cnf,
		Exp:       rec.ExpiresAt.Unix(),
		Iat:       rec.IssuedAt.Unix(),
		Nbf:       rec.IssuedAt.Unix(),
		Sub:       rec.Subject,
		Aud:       rec.Audience,
		Iss:       s.opts.Issuer,
		grantID:   rec.GrantID,
		userGen:   rec.UserGeneration,
	}, nil
}

// IntrospectBatch answers for up to MaxBatch tokens, in order. Revocation is
// checked with one cache round trip (and at most one store call) for the batch.
func (s *Service) IntrospectBatch(ctx context.Context, toks []string) ([]*Info, error) {
	if len(toks) > MaxBatch {
		return nil, oauth.InvalidRequest("at most 100 tokens per batch")
	}
	out, err := s.lookupMany(ctx, toks)
	if err != nil {
		return nil, err
	}
	if err := s.screen(ctx, toks, out); err != nil {
		return nil, err
	}
	return out, nil
}

// screen turns inactive the answers in out (for toks) whose client is gone or
// that a revocation covers, with one revocation lookup for all of them.
func (s *Service) screen(ctx context.Context, toks []string, out []*Info) error {
	var ids []string
	var owner []int // owner[k]: the answer ids[k] belongs to
	// A batch is usually many tokens of a few clients: each client is
	// looked up once per run of its tokens, not once per token.
	var lastClient string
	for i, info := range out {
		if !info.Active {
			continue
		}
		if info.ClientID != lastClient {
			if gone, err := s.clientGone(ctx, info); err != nil {
				return err
			} else if gone {
				out[i] = inactive
				continue
			}
			lastClient = info.ClientID
		}
		if ended, err := s.userEnds(ctx, info); err != nil {
			return err
		} else if ended {
			out[i] = inactive
			continue
		}
		for _, id := range revocationIDs(info, isJWT(toks[i])) {
			ids, owner = append(ids, id), append(owner, i)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	revoked, err := s.revokedAmong(ctx, ids)
	if err != nil {
		return err
	}
	for k := range ids {
		if revoked[k] {
			out[owner[k]] = inactive
		}
	}
	return nil
}

// clientGone reports whether the client a token was issued to has been
// deleted: its tokens die with it. The lookup is the cached one the token
// endpoint uses, so it costs an in-process hit.
func (s *Service) clientGone(ctx context.Context, info *Info) (bool, error) {
	_, err := s.client(ctx, info.ClientID)
	if errors.Is(err, store.ErrNotFound) {
		return true, nil
	}
	return false, err
}
