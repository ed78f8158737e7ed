package token

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"log/slog"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/internal/cache"
	"github.com/authd/authd/internal/cache/invalidator"
	"github.com/authd/authd/internal/clientauth/assertion"
	"github.com/authd/authd/internal/mtls"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/secevent"
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

// Signer signs and verifies compact JWS (keys.Manager). Keys have a purpose
// (keys.PurposeAccess, keys.PurposeIDToken): Sign signs with the current key
// of one, VerifyFor accepts only keys of one.
type Signer interface {
	Sign(purpose, typ string, payload []byte) (string, error)
	// SignAlg signs with purpose's key of algorithm alg (id_tokens in a
	// client's id_token_signed_response_alg).
	SignAlg(purpose, alg, typ string, payload []byte) (string, error)
	VerifyFor(ctx context.Context, token, typ, purpose string) ([]byte, error)
}

// CodeStore redeems authorization codes.
type CodeStore interface {
	RedeemAuthCode(ctx context.Context, hash []byte, now time.Time) (*store.AuthCode, error)
}

// RefreshStore keeps refresh-token families.
type RefreshStore interface {
	CreateRefreshToken(ctx context.Context, t *store.RefreshToken) error
	RotateRefreshToken(ctx context.Context, oldHash []byte, next *store.RefreshToken, now time.Time) (*store.RefreshToken, error)
	RefreshToken(ctx context.Context, hash []byte) (*store.RefreshToken, error)
	RevokeGrant(ctx context.Context, grantID string) error
}

// DeviceStore keeps device authorization requests (RFC 8628).
type DeviceStore interface {
	CreateDeviceAuthorization(ctx context.Context, a *store.DeviceAuthorization) error
	PollDeviceAuthorization(ctx context.Context, deviceCodeHash []byte, clientID string, now time.Time, slowDown time.Duration) (*store.DeviceAuthorization, error)
}

// UserCodes makes user codes (*device.Codes): one formatted for display and
// the hash it is stored under.
type UserCodes interface {
	New() (code string, hash []byte)
}

// Accounts authenticates people and reads their profile (account.Service).
type Accounts interface {
	Authenticate(ctx context.Context, username, pw string) (*store.User, error)
	User(ctx context.Context, id string) (*store.User, error)
}

// Deps are the Service's collaborators. Clients, Tokens, Revocations and
// Signer are required; the rest enable the grants that need them.
type Deps struct {
	Clients     ClientGetter
	Tokens      TokenStore
	Revocations RevocationStore
	Signer      Signer
	Codes       CodeStore
	Refresh     RefreshStore
	Accounts    Accounts
	// Cache holds clients, introspection answers and revocation state
	// (cache.Cache: in-process, Redis, or both tiers); nil: cache.None.
	Cache cache.Cache
	// Events receives security events; nil discards them.
	Events secevent.Emitter
	// Limits, if set, is asked after client authentication whether the
	// client may have another token; an *oauth.Error refuses the request.
	Limits ClientLimits
	// Invalidator deletes cached state after a change and makes sure the
	// deletion lands (cache/invalidator); default: one over Cache with no
	// outbox, fit only for a cache no other process shares.
	Invalidator Invalidator
	// Logger receives what callers are not told; default slog.Default().
	Logger *slog.Logger
	// Assertions verifies JWT client assertions (private_key_jwt,
	// client_secret_jwt, federated workload tokens); nil refuses them.
	Assertions AssertionVerifier
	// Certs verifies client certificates for tls_client_auth and
	// self_signed_tls_client_auth (RFC 8705 §2); nil refuses those methods.
	Certs CertVerifier
	// ClientKeys reads a client's jwks_uri (self_signed_tls_client_auth
	// with keys by reference).
	ClientKeys assertion.KeySource
	// Resources reads API resources (RFC 8707); nil: none is registered, so
	// every resource parameter is invalid_target.
	Resources ResourceStore
	// Devices and UserCodes, both set (with Refresh and Accounts), enable
	// the device authorization grant (RFC 8628).
	Devices   DeviceStore
	UserCodes UserCodes
	// TrustedIssuers and IssuerKeys read the issuers whose JWTs are
	// accepted as token-exchange subject and actor tokens and as JWT bearer
	// assertions, and their keys; nil: only authd's own tokens are.
	TrustedIssuers TrustedIssuerStore
	IssuerKeys     IssuerKeys
	// Users finds the user a trusted issuer's sub names (by username or
	// verified email; by id through Accounts).
	Users UserFinder
	// Replay makes a JWT bearer assertion single-use by its jti (RFC 7523
	// §3 item 7); nil: the jwt-bearer grant is not served.
	Replay Replay
}

// CertVerifier is what client authentication needs of mtls.Verifier.
type CertVerifier interface {
	Authenticate(cert *mtls.Certificate, method string, m mtls.Metadata, keys *jose.JSONWebKeySet) error
}

// AssertionVerifier is what client authentication needs of
// clientauth/assertion.Verifier.
type AssertionVerifier interface {
	Parse(in assertion.Input) (*assertion.Assertion, error)
	Verify(ctx context.Context, a *assertion.Assertion, c *assertion.Client) (*assertion.Result, error)
}

// Invalidator deletes cache entries after the data behind them changed
// (*invalidator.Invalidator). A nil error means the deletion landed or is
// durably recorded.
type Invalidator interface {
	Invalidate(ctx context.Context, keys ...string) error
}

// ClientLimits bounds token requests per client (defense.Requests).
type ClientLimits interface {
	AllowClient(ctx context.Context, c *oauth.Client, ip string) error
}

// Options configures a Service.
type Options struct {
	Issuer string
	// Audience is the aud of access tokens (RFC 9068 §2.2); default [Issuer].
	Audience   []string
	DefaultTTL time.Duration // for clients without their own lifetime
	MaxTTL     time.Duration // no access token lives longer
	RefreshTTL time.Duration // sliding lifetime of a refresh token; default 30 days
	// RefreshReuseGrace: the same client presenting a refresh token again
	// within this long after it rotated (a retry, a second tab) gets working
	// tokens instead of having the family revoked. 0 turns it off.
	RefreshReuseGrace time.Duration
	IDTokenTTL        time.Duration // default 1 hour
	IDTokenAlg        string        // id_tokens' algorithm, for at_hash; "" = RS256 (OpenID Connect Core §15.1)
	// SecurityProfile is the profile of clients that name none
	// (AUTHD_SECURITY_PROFILE; "" is oauth.ProfileDefault).
	SecurityProfile string
	Now             func() time.Time
	Random          func([]byte) // fills b with random bytes; nil = crypto/rand
	Leeway          time.Duration
	// TokenKey keys the tag of opaque tokens; every replica needs the same
	// one (derive it from the master key). nil: a random key, for tests.
	TokenKey []byte
	// SealKey (32 bytes) opens sealed opaque access tokens (sealed.go) and,
	// unless StoreOpaque, seals the ones issued; every replica needs the
	// same one. nil: opaque access tokens are stored, and sealed ones are
	// inactive.
	SealKey []byte
	// StoreOpaque issues stored opaque access tokens (random handles to a
	// row) although SealKey is set: sealed ones issued before still open, so
	// switching AUTHD_OPAQUE_TOKENS either way ends no token.
	StoreOpaque bool
	// OpenSecret unseals a client_secret_jwt client's secret
	// (oauth.Client.SecretSealed); nil: client_secret_jwt is refused.
	OpenSecret func(clientID string, sealed []byte) ([]byte, error)
	// DeviceCodeTTL is how long a device_code and its user_code live
	// (RFC 8628 §3.2 expires_in); default 10 minutes.
	DeviceCodeTTL time.Duration
	// DeviceInterval is the least time between polls a device is told
	// (RFC 8628 §3.2 interval); default 5 seconds, the RFC's.
	DeviceInterval time.Duration
	// VerificationURI is where the user enters the user_code (RFC 8628
	// §3.2); default Issuer + "/device".
	VerificationURI string
}

// Service issues, introspects and revokes tokens.
type Service struct {
	clients    ClientGetter
	tokens     TokenStore
	revoked    RevocationStore
	signer     Signer
	codes      CodeStore
	refresh    RefreshStore
	accounts   Accounts
	events     secevent.Emitter
	limits     ClientLimits
	cache      cache.Cache
	inval      Invalidator
	log        *slog.Logger
	assertions AssertionVerifier
	certs      CertVerifier
	clientKeys assertion.KeySource
	resources  ResourceStore
	devices    DeviceStore
	userCodes  UserCodes
	issuers    TrustedIssuerStore
	issuerKeys IssuerKeys
	users      UserFinder
	replay     Replay
	loader     *cache.Loader
	memo       *memo
	macs       sync.Pool    // keyed HMAC-SHA256 states for token tags
	sealer     *tokenSealer // nil: opaque access tokens are stored
	opts       Options
}

// New returns a Service. It panics if opts.SealKey is set but not 32 bytes:
// a configuration error caught at start-up.
func New(d Deps, opts Options) *Service {
	if len(opts.Audience) == 0 {
		opts.Audience = []string{opts.Issuer}
	}
	if opts.DefaultTTL == 0 {
		opts.DefaultTTL = time.Hour
	}
	if opts.MaxTTL == 0 {
		opts.MaxTTL = 24 * time.Hour
	}
	if opts.RefreshTTL == 0 {
		opts.RefreshTTL = 30 * 24 * time.Hour
	}
	if opts.IDTokenTTL == 0 {
		opts.IDTokenTTL = time.Hour
	}
	if opts.IDTokenAlg == "" {
		opts.IDTokenAlg = "RS256"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.DeviceCodeTTL <= 0 {
		opts.DeviceCodeTTL = 10 * time.Minute
	}
	if opts.DeviceInterval <= 0 {
		opts.DeviceInterval = 5 * time.Second
	}
	if opts.VerificationURI == "" {
		opts.VerificationURI = strings.TrimSuffix(opts.Issuer, "/") + "/device"
	}
	if opts.Random == nil {
		opts.Random = func(b []byte) { _, _ = rand.Read(b) } // crypto/rand.Read never fails (Go 1.24+)
	}
	if opts.TokenKey == nil {
		opts.TokenKey = make([]byte, 32)
		_, _ = rand.Read(opts.TokenKey)
	}
	if d.Events == nil {
		d.Events = secevent.Discard{}
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Cache == nil {
		d.Cache = cache.None{}
	}
	if d.Invalidator == nil {
		d.Invalidator = invalidator.New(d.Cache, nil, invalidator.Options{Logger: d.Logger})
	}
	s := &Service{
		clients: d.Clients, tokens: d.Tokens, revoked: d.Revocations, signer: d.Signer,
		codes: d.Codes, refresh: d.Refresh, accounts: d.Accounts, events: d.Events, opts: opts,
		cache: d.Cache, limits: d.Limits, inval: d.Invalidator, log: d.Logger, assertions: d.Assertions,
		certs: d.Certs, clientKeys: d.ClientKeys, resources: d.Resources,
		devices: d.Devices, userCodes: d.UserCodes,
		issuers: d.TrustedIssuers, issuerKeys: d.IssuerKeys, users: d.Users, replay: d.Replay,
	}
	s.macs.New = func() any { return hmac.New(sha256.New, opts.TokenKey) }
	if opts.SealKey != nil {
		sealer, err := newTokenSealer(opts.SealKey)
		if err != nil {
			panic(err)
		}
		s.sealer = sealer
	}
	s.loader = cache.NewLoader(d.Cache)
	s.memo = newMemo(100_000)
	return s
}

// Grants lists the grant types this Service can serve with its dependencies.
func (s *Service) Grants() []string {
	g := []string{oauth.GrantClientCredentials}
	if s.codes != nil && s.refresh != nil && s.accounts != nil {
		g = append(g, oauth.GrantAuthorizationCode, oauth.GrantRefreshToken)
	}
	if s.accounts != nil && s.refresh != nil {
		g = append(g, oauth.GrantPassword)
		// RFC 8693: authd's own tokens can always be exchanged; a trusted
		// issuer's once there are some.
		g = append(g, oauth.GrantTokenExchange)
		if s.issuers != nil && s.issuerKeys != nil && s.users != nil && s.replay != nil {
			g = append(g, oauth.GrantJWTBearer)
		}
	}
	if s.devices != nil && s.userCodes != nil && s.accounts != nil && s.refresh != nil {
		g = append(g, oauth.GrantDeviceCode)
	}
	return g
}

// Issuer returns the issuer identifier tokens carry.
func (s *Service) Issuer() string { return s.opts.Issuer }

// Opaque tokens (access and refresh) are 256 random bits and a 32-bit tag,
// HMAC-SHA256 of the random part under a key of this deployment, base64url
// (48 characters). The tag lets introspection, revocation and the refresh
// grant throw away a guessed or mangled token before it costs a cache or store
// lookup: an enumeration flood never reaches the store, and guessing a tag
// blindly succeeds once in 2^32.
const (
	tokenRandomLen = 32
	tokenTagLen    = 4
	opaqueLen      = 48 // base64url of 36 bytes
)

func (s *Service) randomToken() string {
	var b [tokenRandomLen + tokenTagLen]byte
	s.opts.Random(b[:tokenRandomLen])
	s.tag(b[tokenRandomLen:], b[:tokenRandomLen])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (s *Service) tag(dst, random []byte) {
	m := s.macs.Get().(hash.Hash)
	m.Reset()
	m.Write(random)
	var sum [sha256.Size]byte
	copy(dst, m.Sum(sum[:0]))
	s.macs.Put(m)
}

// wellFormed reports whether tok could be an opaque token of this deployment.
func (s *Service) wellFormed(tok string) bool {
	if len(tok) != opaqueLen {
		return false
	}
	var b [tokenRandomLen + tokenTagLen]byte
	if n, err := base64.RawURLEncoding.Decode(b[:], []byte(tok)); err != nil || n != len(b) {
		return false
	}
	var want [tokenTagLen]byte
	s.tag(want[:], b[:tokenRandomLen])
	return hmac.Equal(want[:], b[tokenRandomLen:])
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
