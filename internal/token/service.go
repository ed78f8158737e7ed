package token

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"time"

	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/store"
)

// ClientGetter reads clients (the store, or a cache in front of it).
type ClientGetter interface {
	Client(ctx context.Context, id string) (*oauth.Client, error)
}

// TokenStore keeps opaque access tokens. CreateAccessTokens may be a group-commit
// writer in front of the store; either way it returns once the rows are durable.
type TokenStore interface {
	CreateAccessTokens(ctx context.Context, tokens []*store.AccessToken) error
	AccessToken(ctx context.Context, hash []byte) (*store.AccessToken, error)
	DeleteAccessToken(ctx context.Context, hash []byte) error
}

// RevocationStore records revoked JWT ids.
type RevocationStore interface {
	Revoke(ctx context.Context, id string, expiresAt time.Time) error
	Revoked(ctx context.Context, ids []string) ([]string, error)
}

// Signer signs and verifies compact JWS (keys.Manager).
type Signer interface {
	Sign(alg, typ string, payload []byte) (string, error)
	Verify(ctx context.Context, token, typ string) ([]byte, error)
}

// Options configures a Service.
type Options struct {
	Issuer string
	// Audience is the aud of access tokens (RFC 9068 §2.2); default [Issuer].
	Audience   []string
	DefaultTTL time.Duration // for clients without their own lifetime
	MaxTTL     time.Duration // no access token lives longer
	SigningAlg string        // "" = the signer's default
	Now        func() time.Time
	Random     func([]byte) // fills b with random bytes; nil = crypto/rand
	Leeway     time.Duration
}

// Service issues, introspects and revokes tokens.
type Service struct {
	clients ClientGetter
	tokens  TokenStore
	revoked RevocationStore
	signer  Signer
	opts    Options
}

// New returns a Service.
func New(clients ClientGetter, tokens TokenStore, revoked RevocationStore, signer Signer, opts Options) *Service {
	if len(opts.Audience) == 0 {
		opts.Audience = []string{opts.Issuer}
	}
	if opts.DefaultTTL == 0 {
		opts.DefaultTTL = time.Hour
	}
	if opts.MaxTTL == 0 {
		opts.MaxTTL = 24 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Random == nil {
		opts.Random = func(b []byte) { _, _ = rand.Read(b) } // crypto/rand.Read never fails (Go 1.24+)
	}
	return &Service{clients: clients, tokens: tokens, revoked: revoked, signer: signer, opts: opts}
}

// Issuer returns the issuer identifier tokens carry.
func (s *Service) Issuer() string { return s.opts.Issuer }

// randomToken returns 256 random bits, base64url without padding (43 chars).
func (s *Service) randomToken() string {
	var b [32]byte
	s.opts.Random(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// randomID returns 128 random bits, base64url: enough for a jti or grant id.
func (s *Service) randomID() string {
	var b [16]byte
	s.opts.Random(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Hash is the SHA-256 under which opaque tokens, codes and secrets are stored.
func Hash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

func (s *Service) ttlFor(c *oauth.Client) time.Duration {
	ttl := c.AccessTokenTTL
	if ttl <= 0 {
		ttl = s.opts.DefaultTTL
	}
	return min(ttl, s.opts.MaxTTL)
}
