package client

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"time"

	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/secevent"
	"github.com/authd/authd/internal/store"
)

// ErrRegistrationToken: an initial access token or registration access
// token that is unknown, expired, spent or not this client's. Callers answer
// 401 invalid_token (RFC 6750 §3.1) without saying which.
var ErrRegistrationToken = errors.New("client: invalid registration token")

// Limits of initial access tokens.
const (
	DefaultRegistrationTokenTTL = 24 * time.Hour
	MaxRegistrationTokenTTL     = 90 * 24 * time.Hour
	MaxRegistrationTokenUses    = 1000
)

// Callers of the registration endpoint, in the audit trail.
const (
	ByInitialAccessToken = "initial-access-token"
	ByOpenRegistration   = "open-registration"
	ByRegistrationToken  = "registration-access-token"
)

// MintRegistrationToken makes an initial access token (RFC 7591 §3) valid
// for ttl (DefaultRegistrationTokenTTL when 0) and maxUses registrations (1
// when 0). Only its SHA-256 is stored; the token is returned this once.
func (s *Service) MintRegistrationToken(ctx context.Context, ttl time.Duration, maxUses int, by Caller) (string, time.Time, error) {
	if ttl == 0 {
		ttl = DefaultRegistrationTokenTTL
	}
	if maxUses == 0 {
		maxUses = 1
	}
	if ttl < time.Minute || ttl > MaxRegistrationTokenTTL {
		return "", time.Time{}, invalid("expires_in", "expires_in must be from 60 to "+itoa(int64(MaxRegistrationTokenTTL/time.Second))+" seconds")
	}
	if maxUses < 1 || maxUses > MaxRegistrationTokenUses {
		return "", time.Time{}, invalid("max_uses", "max_uses must be from 1 to "+itoa(MaxRegistrationTokenUses))
	}
	tok := s.randomString(32)
	h := sha256.Sum256([]byte(tok))
	now := s.opts.Now().UTC()
	exp := now.Add(ttl).Truncate(time.Second)
	if err := s.st.CreateRegistrationToken(ctx, &store.RegistrationToken{Hash: h[:], ExpiresAt: exp, MaxUses: maxUses, CreatedAt: now}); err != nil {
		return "", time.Time{}, err
	}
	s.opts.Events.Emit(secevent.Event{Type: secevent.RegistrationTokenCreated, IP: by.IP,
		Detail: map[string]string{"by": by.Credential, "max_uses": itoa(int64(maxUses))}})
	return tok, exp, nil
}

// Registration is what a client that registered itself gets back.
type Registration struct {
	Client *oauth.Client
	// Secret is set for clients that authenticate with one (shown once).
	Secret string
	// Token is the RFC 7592 registration access token (shown once).
	Token string
}

// Register is RFC 7591 §3.1. initialToken is the initial access token
// presented, or "" under open registration (open reports whether that is
// allowed). The server, not the client, chooses what only it may decide: the
// client_id (§3.2.1), and that a self-registered client is never first-party
// (it would skip consent). Open registration may not ask for grants only a
// confidential client of the operator's should have (client_credentials,
// password). Errors: *InvalidMetadata, ErrRegistrationToken.
func (s *Service) Register(ctx context.Context, m Metadata, initialToken string, open bool, by Caller) (*Registration, error) {
	m.ClientID, m.FirstParty = "", false
	by.Credential = ByInitialAccessToken
	if initialToken == "" {
		if !open {
			return nil, ErrRegistrationToken
		}
		by.Credential = ByOpenRegistration
	}
	// Validate before spending a use of the initial access token: a typo
	// must not cost the caller their token.
	probe := m
	c, err := s.validate(&probe)
	if err != nil {
		return nil, err
	}
	if err := selfRegisteredImpersonation(c, nil); err != nil {
		return nil, err
	}
	if initialToken == "" {
		// On the validated client, since an empty grant_types may default
		// to client_credentials.
		for _, g := range operatorGrants {
			if c.AllowsGrant(g) {
				return nil, invalid("grant_types", "open registration cannot register for "+g+"; ask the operator for an initial access token")
			}
		}
	}
	if initialToken != "" {
		h := sha256.Sum256([]byte(initialToken))
		if err := s.st.UseRegistrationToken(ctx, h[:], s.opts.Now()); errors.Is(err, store.ErrNotFound) {
			return nil, ErrRegistrationToken
		} else if err != nil {
			return nil, err
		}
	}
	tok := s.randomString(32)
	h := sha256.Sum256([]byte(tok))
	c, secret, err := s.create(ctx, m, by, h[:], secevent.ClientRegistered)
	if err != nil {
		return nil, err
	}
	return &Registration{Client: c, Secret: secret, Token: tok}, nil
}

// Registered returns the client whose registration access token token is
// (RFC 7592 §3). An unknown client and a wrong token are the same
// ErrRegistrationToken, compared in constant time.
func (s *Service) Registered(ctx context.Context, id, token string) (*oauth.Client, error) {
	h := sha256.Sum256([]byte(token))
	c, err := s.st.Client(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && len(c.RegistrationTokenHash) != sha256.Size) {
		subtle.ConstantTimeCompare(h[:], h[:])
		return nil, ErrRegistrationToken
	}
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(h[:], c.RegistrationTokenHash) != 1 {
		return nil, ErrRegistrationToken
	}
	return c, nil
}

// UpdateRegistered is RFC 7592 §2.2 for the client holding token: m
// replaces its metadata, with the same limits as Register.
func (s *Service) UpdateRegistered(ctx context.Context, id, token string, m Metadata, by Caller) (*oauth.Client, error) {
	cur, err := s.Registered(ctx, id, token)
	if err != nil {
		return nil, err
	}
	m.FirstParty = false
	// A client may not give itself grants only the operator hands out.
	probe := m
	probe.ClientID = id
	next, err := s.validate(&probe)
	if err != nil {
		return nil, err
	}
	if err := selfRegisteredImpersonation(next, cur); err != nil {
		return nil, err
	}
	for _, g := range operatorGrants {
		if next.AllowsGrant(g) && !cur.AllowsGrant(g) {
			return nil, invalid("grant_types", "a registration cannot add "+g+" by itself; ask the operator")
		}
	}
	by.Credential = ByRegistrationToken
	return s.update(ctx, id, m, by, secevent.ClientRegistrationUpdated)
}

// DeleteRegistered is RFC 7592 §2.3: the client holding token removes
// itself; its tokens die with it.
func (s *Service) DeleteRegistered(ctx context.Context, id, token string, by Caller) error {
	if _, err := s.Registered(ctx, id, token); err != nil {
		return err
	}
	by.Credential = ByRegistrationToken
	return s.delete(ctx, id, by, secevent.ClientRegistrationDeleted)
}

// SecretMatches reports whether secret is c's current secret (RFC 7592
// §2.2: a client_secret sent with an update must be the one issued).
func SecretMatches(c *oauth.Client, secret string) bool {
	h := sha256.Sum256([]byte(secret))
	return len(c.SecretHash) == sha256.Size && subtle.ConstantTimeCompare(h[:], c.SecretHash) == 1
}

// Validate checks m as registration would and returns the client it
// describes, stored nowhere: for clients whose metadata lives elsewhere
// (Client ID Metadata Documents), validated on every fetch.
func (s *Service) Validate(m Metadata) (*oauth.Client, error) {
	return s.validate(&m)
}
