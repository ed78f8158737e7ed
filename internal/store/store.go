package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/authd/authd/internal/oauth"
)

// Sentinel errors; check them with errors.Is.
var (
	// ErrNotFound: no such record (or it expired and was purged).
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a record with that unique key already exists.
	ErrConflict = errors.New("store: conflict")
	// ErrAlreadyUsed: a single-use record (authorization code, rotated refresh
	// token) was presented again. The record is returned with it so the caller can
	// revoke what was issued from it.
	ErrAlreadyUsed = errors.New("store: already used")
	// ErrUnavailable: the backend cannot be reached or timed out.
	ErrUnavailable = errors.New("store: unavailable")
)

// Clients stores OAuth clients.
type Clients interface {
	// CreateClient inserts c; ErrConflict if c.ID exists.
	CreateClient(ctx context.Context, c *oauth.Client) error
	// Client returns the client with that id, or ErrNotFound.
	Client(ctx context.Context, id string) (*oauth.Client, error)
	// ListClients returns every client ordered by id.
	ListClients(ctx context.Context) ([]*oauth.Client, error)
	// DeleteClient removes a client; ErrNotFound if absent.
	DeleteClient(ctx context.Context, id string) error
	// SetClientSecret replaces the secret hash and bumps UpdatedAt; ErrNotFound if absent.
	// secretSealed is the secret itself sealed (client_secret_jwt) or nil.
	SetClientSecret(ctx context.Context, id string, secretHash, secretSealed []byte, now time.Time) error
	// UpdateClient replaces c's metadata (everything but ID, SecretHash,
	// SecretSealed and CreatedAt; RegistrationTokenHash included) and sets
	// UpdatedAt from c; ErrNotFound if absent.
	UpdateClient(ctx context.Context, c *oauth.Client) error
	// OriginAllowed reports whether some client's CORSOrigins (as written by
	// CreateClient and UpdateClient) contains origin, compared exactly. A CORS
	// preflight names no client, so it is answered for any registered origin.
	OriginAllowed(ctx context.Context, origin string) (bool, error)
}

// AccessToken is an opaque access token as stored: only its SHA-256.
type AccessToken struct {
	Hash     []byte // SHA-256 of the token; primary key
	ClientID string
	Subject  string // the user's subject, or the client id for client_credentials
	Scope    string // space-delimited
	Audience []string
	GrantID  string // the authorization grant (code / refresh family) it came from; "" for client_credentials
	// UserGeneration is the user's Generation when the token was issued (0
	// for client_credentials): once it moves on, the token is inactive.
	UserGeneration int64
	// Cnf is the key or certificate the token is bound to (zero: a bearer token).
	Cnf       oauth.Confirmation
	IssuedAt  time.Time
	ExpiresAt time.Time
	// Act is the RFC 8693 §4.1 act claim of a token issued by token
	// exchange, as JSON; "" for none.
	Act string
}

// AccessTokens stores opaque access tokens.
type AccessTokens interface {
	// CreateAccessTokens inserts tokens in one transaction: all or none. It
	// returns only once they are durable.
	CreateAccessTokens(ctx context.Context, tokens []*AccessToken) error
	// AccessToken returns the token with that hash, or ErrNotFound (also when revoked).
	// Expired tokens may still be returned; callers check ExpiresAt.
	AccessToken(ctx context.Context, hash []byte) (*AccessToken, error)
	// DeleteAccessToken removes (revokes) a token; deleting an absent one is not an error.
	DeleteAccessToken(ctx context.Context, hash []byte) error
}

// Revocations records revoked identifiers that cannot be deleted from a table: the
// jti of a JWT access token, or a grant id whose JWTs are all revoked. An entry
// lives until expiresAt, when whatever it names has expired anyway.
type Revocations interface {
	// Revoke records id as revoked until expiresAt. Revoking twice keeps the later expiry.
	Revoke(ctx context.Context, id string, expiresAt time.Time) error
	// RevokeMany records several revocations in one transaction: all or none.
	// An id given twice keeps its later expiry. (Group commit uses it.)
	RevokeMany(ctx context.Context, rs []Revocation) error
	// Revoked returns the subset of ids that are revoked (in any order).
	Revoked(ctx context.Context, ids []string) ([]string, error)
}

// Revocation is one entry of Revocations.
type Revocation struct {
	ID        string
	ExpiresAt time.Time
}

// SigningKey is a JWS signing key. The private key is stored only encrypted.
type SigningKey struct {
	ID           string    // kid
	Algorithm    string    // ES256, EdDSA or RS256
	PrivateKey   []byte    // ciphertext: AES-256-GCM under the master key
	PublicJWK    []byte    // JSON of the public JWK
	CreatedAt    time.Time // when it starts signing; may be in the future (published before it signs)
	PublishUntil time.Time // zero: current or still valid; else drops out of JWKS after it
	// Purpose is what the key signs ("access", "id_token"); "" for keys from
	// before purposes, which serve every purpose of their algorithm.
	Purpose string
}

// SigningKeys stores signing keys, one rotation series per algorithm
// (access tokens may be ES256 while OpenID Connect needs RS256 id_tokens).
// Which key signs is keys.Manager's decision: the newest of its algorithm
// whose CreatedAt has come.
type SigningKeys interface {
	// RotateKey inserts k and, in the same transaction, sets PublishUntil =
	// publishUntil on every other key of k's Algorithm and Purpose (and on
	// keys of that Algorithm without a purpose) whose PublishUntil is zero;
	// other keys are untouched. ErrConflict if k.ID exists.
	RotateKey(ctx context.Context, k *SigningKey, publishUntil time.Time) error
	// SigningKeys returns every key whose PublishUntil is zero or after now,
	// newest first.
	SigningKeys(ctx context.Context, now time.Time) ([]*SigningKey, error)
}

// User is a person who logs in with a password.
type User struct {
	ID       string // subject: random and stable
	Username string // unique; already case-folded by the caller
	UserProfile
	PasswordHash string // Argon2id PHC string
	Disabled     bool
	// Generation moves on (by one) with every password change or reset and
	// every disabling. Every token and code carries the generation it was
	// issued under and is dead once it moves: that is how a password reset
	// ends what the old password opened, JWTs included.
	Generation int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// UserProfile is what an administrator may edit about a user and what
// OpenID Connect releases as standard claims (Core §5.1).
type UserProfile struct {
	Email         string
	EmailVerified bool
	Name          string
	GivenName     string
	FamilyName    string
	// PhoneNumber (E.164 recommended) and whether it was verified.
	PhoneNumber         string
	PhoneNumberVerified bool
	// Address is the §5.1.1 address; nil for none.
	Address *Address
}

// Address is OpenID Connect Core §5.1.1's address claim.
type Address struct {
	Formatted     string `json:"formatted,omitempty"`
	StreetAddress string `json:"street_address,omitempty"`
	Locality      string `json:"locality,omitempty"`
	Region        string `json:"region,omitempty"`
	PostalCode    string `json:"postal_code,omitempty"`
	Country       string `json:"country,omitempty"`
}

// IsZero reports whether a has nothing in it (no address).
func (a *Address) IsZero() bool { return a == nil || *a == Address{} }

// EncodeAddress is how backends keep an address: JSON, "" for none.
func EncodeAddress(a *Address) string {
	if a.IsZero() {
		return ""
	}
	b, _ := json.Marshal(a) // strings only: cannot fail
	return string(b)
}

// DecodeAddress undoes EncodeAddress.
func DecodeAddress(s string) (*Address, error) {
	if s == "" {
		return nil, nil
	}
	a := new(Address)
	if err := json.Unmarshal([]byte(s), a); err != nil {
		return nil, fmt.Errorf("store: stored address: %w", err)
	}
	return a, nil
}

// Users stores user accounts.
type Users interface {
	// CreateUser inserts u; ErrConflict if the id or username exists.
	CreateUser(ctx context.Context, u *User) error
	// User returns the user with that id, or ErrNotFound.
	User(ctx context.Context, id string) (*User, error)
	// UserByUsername returns the user with that (case-folded) username, or ErrNotFound.
	UserByUsername(ctx context.Context, username string) (*User, error)
	// UserByVerifiedEmail returns the one user whose verified email is
	// email (compared exactly), ErrNotFound if there is none, ErrConflict if
	// several share it (a trusted issuer's email names nobody then).
	UserByVerifiedEmail(ctx context.Context, email string) (*User, error)
	// ListUsers returns every user ordered by username.
	ListUsers(ctx context.Context) ([]*User, error)
	// DeleteUser removes a user; ErrNotFound if absent.
	DeleteUser(ctx context.Context, id string) error
	// SetPasswordHash replaces the hash of the same password (a rehash with
	// new parameters) and bumps UpdatedAt; it ends nothing. ErrNotFound if absent.
	SetPasswordHash(ctx context.Context, id, hash string, now time.Time) error
	// ChangePassword replaces the hash and ends what the old password
	// opened, in one transaction: Generation moves on, every refresh token of
	// the user is revoked, and every session of theirs is deleted except the
	// one whose hash is keepSession (nil keeps none). It returns the new
	// generation; ErrNotFound if absent.
	ChangePassword(ctx context.Context, id, hash string, keepSession []byte, now time.Time) (int64, error)
	// SetUserDisabled sets the disabled flag and bumps UpdatedAt. Disabling
	// also ends everything the user holds, as ChangePassword does (keeping no
	// session), so enabling the account again revives none of it.
	// ErrNotFound if absent.
	SetUserDisabled(ctx context.Context, id string, disabled bool, now time.Time) error
	// DeleteUserSessions deletes every session of the user (signed out
	// everywhere); having none is not an error. It ends nothing else.
	DeleteUserSessions(ctx context.Context, id string) error
	// UpdateUserProfile replaces the profile and bumps UpdatedAt; ErrNotFound
	// if absent.
	UpdateUserProfile(ctx context.Context, id string, p UserProfile, now time.Time) error
}

// AuthCode is an authorization code as stored: only its SHA-256.
type AuthCode struct {
	Hash          []byte
	ClientID      string
	RedirectURI   string
	Subject       string
	Scope         string
	Nonce         string
	CodeChallenge string // S256 challenge
	AuthTime      time.Time
	GrantID       string // every token issued from this code carries it
	// UserGeneration is the user's Generation when the code was issued.
	UserGeneration int64
	// DPoPJKT binds the code to a DPoP key (RFC 9449 §10, dpop_jkt): only a
	// token request proving that key may redeem it.
	DPoPJKT string
	// Resources are the resource indicators granted (RFC 8707 §2.1); the
	// token request may narrow to one. Empty: none asked for.
	Resources []string
	// SID is the session id of the browser session the code was issued in,
	// for the id_token's sid claim (Back-Channel Logout §2.1); "" if none.
	SID       string
	ExpiresAt time.Time
}

// AuthCodes stores authorization codes.
type AuthCodes interface {
	CreateAuthCode(ctx context.Context, c *AuthCode) error
	// RedeemAuthCode atomically marks the code used and returns it. If it was
	// used before, it returns the code and ErrAlreadyUsed; of N concurrent
	// redemptions exactly one succeeds. ErrNotFound if absent. Expiry is the
	// caller's to check.
	RedeemAuthCode(ctx context.Context, hash []byte, now time.Time) (*AuthCode, error)
}

// RefreshToken is a refresh token as stored: only its SHA-256.
type RefreshToken struct {
	Hash     []byte
	GrantID  string // the family: every rotation keeps it
	ClientID string
	Subject  string
	Scope    string
	AuthTime time.Time
	// UserGeneration is the user's Generation when the family was granted.
	UserGeneration int64
	// Cnf binds the token to a key or certificate (RFC 9449 §5 for public
	// clients; RFC 8705 §4); every rotation keeps it.
	Cnf oauth.Confirmation
	// Resources are the resource indicators the family was granted (RFC
	// 8707 §2.2); every rotation keeps them, a refresh may narrow to one.
	Resources []string
	IssuedAt  time.Time
	ExpiresAt time.Time
	// UsedAt (when it was rotated) and Revoked are set by the store and
	// ignored on insert; they tell a retried rotation from a replay from a
	// revoked family.
	UsedAt  time.Time
	Revoked bool
}

// RefreshTokens stores refresh tokens in families that rotate.
type RefreshTokens interface {
	CreateRefreshToken(ctx context.Context, t *RefreshToken) error
	// RotateRefreshToken atomically marks the token with oldHash used and inserts
	// next, returning the old record. If the old one was already used (or its
	// family revoked) it returns the old record and ErrAlreadyUsed and inserts
	// nothing; of N concurrent rotations exactly one succeeds. ErrNotFound if
	// absent. Expiry is the caller's to check.
	RotateRefreshToken(ctx context.Context, oldHash []byte, next *RefreshToken, now time.Time) (*RefreshToken, error)
	// RefreshToken returns the token with that hash if it is neither used nor
	// revoked, else ErrNotFound.
	RefreshToken(ctx context.Context, hash []byte) (*RefreshToken, error)
	// RevokeGrant revokes every refresh token and deletes every opaque access
	// token with that grant id. Revoking an unknown grant is not an error.
	RevokeGrant(ctx context.Context, grantID string) error
	// DeleteRefreshToken revokes one refresh token (RFC 7009); absent is not an error.
	DeleteRefreshToken(ctx context.Context, hash []byte) error
}

// Consents remembers which scopes a user granted a client.
type Consents interface {
	// GrantConsent records that subject granted scopes to client, adding to any
	// earlier grant.
	GrantConsent(ctx context.Context, subject, clientID string, scopes []string, now time.Time) error
	// Consent returns the scopes subject granted client; empty if none.
	Consent(ctx context.Context, subject, clientID string) ([]string, error)
}

// Session is a browser login session as stored: only the cookie's SHA-256.
type Session struct {
	Hash      []byte
	Subject   string
	AuthTime  time.Time
	ExpiresAt time.Time
}

// Sessions stores browser login sessions.
type Sessions interface {
	CreateSession(ctx context.Context, s *Session) error
	// Session returns the session, or ErrNotFound. Expiry is the caller's to check.
	Session(ctx context.Context, hash []byte) (*Session, error)
	// DeleteSession removes it; absent is not an error.
	DeleteSession(ctx context.Context, hash []byte) error
}

// AuditEvent is one row of the audit trail. It never holds a secret or a token.
type AuditEvent struct {
	// ID is assigned by the store in append order; queries page by it.
	ID       int64
	Time     time.Time
	Type     string // e.g. "token.issued", "login.failed"
	ClientID string
	Subject  string
	IP       string
	Detail   string // JSON object, free of secrets
}

// AuditQuery selects audit events. Zero fields select everything.
type AuditQuery struct {
	Since, Until                time.Time // Since ≤ Time < Until
	Type, ClientID, Subject, IP string
	// Before continues a listing: only events after it in the newest-first
	// order (an older time, or the same time and a lower ID).
	Before *AuditCursor
	Limit  int
}

// AuditCursor is a position in the newest-first order of the trail.
type AuditCursor struct {
	Time time.Time
	ID   int64
}

// Audit appends to the audit trail.
type Audit interface {
	// AppendAudit inserts events in one transaction.
	AppendAudit(ctx context.Context, events []*AuditEvent) error
	// AuditEvents returns up to limit events, newest first.
	AuditEvents(ctx context.Context, limit int) ([]*AuditEvent, error)
	// QueryAudit returns up to q.Limit events matching q, newest first (by
	// time, then by ID), all older than q.Before when it is set: pass the
	// last event of a page as the next page's Before.
	QueryAudit(ctx context.Context, q AuditQuery) ([]*AuditEvent, error)
	// PurgeAudit deletes up to limit events older than before (retention) and
	// returns how many it deleted.
	PurgeAudit(ctx context.Context, before time.Time, limit int) (int, error)
}

// ScopeDescriptions holds what the consent page says of custom scopes.
type ScopeDescriptions interface {
	// SetScopeDescription creates or replaces the description of a scope.
	SetScopeDescription(ctx context.Context, scope, description string, now time.Time) error
	// DeleteScopeDescription removes it; ErrNotFound if absent.
	DeleteScopeDescription(ctx context.Context, scope string) error
	// ScopeDescriptions returns every description by scope.
	ScopeDescriptions(ctx context.Context) (map[string]string, error)
}

// DataKey is a key authd uses (to seal signing keys, tag opaque tokens, sign
// CSRF forms, seal Redis values...) stored wrapped by a master key. The data
// key never changes; rotating the master key only wraps it again.
type DataKey struct {
	Label    string // what it is for (keys.Label…); primary key
	MasterID string // the master key that wrapped it
	Wrapped  []byte
	// CreatedAt is when it was first stored; UpdatedAt when last wrapped.
	CreatedAt time.Time
	UpdatedAt time.Time
}

// DataKeys stores the wrapped data keys.
type DataKeys interface {
	// AddDataKey stores k unless a key with its label exists, and returns
	// the one stored either way: of replicas starting together, the first
	// one's key wins and the others use it.
	AddDataKey(ctx context.Context, k *DataKey) (*DataKey, error)
	// DataKeys returns every data key, ordered by label.
	DataKeys(ctx context.Context) ([]*DataKey, error)
	// RewrapDataKeys replaces the wrapping of every key in ks in one
	// transaction, each only if it is still wrapped by fromMasterID;
	// ErrConflict (and nothing changed) if any was not.
	RewrapDataKeys(ctx context.Context, fromMasterID string, ks []*DataKey) error
}

// Invalidation is a durable record of cache entries whose deletion from a
// shared tier (Redis) could not be confirmed. Whichever replica reads it
// deletes the keys again and then the record; until then a cache that saw
// its shared tier fail must not trust it (see cache/tiered).
type Invalidation struct {
	ID        int64 // assigned by the store
	Keys      []string
	CreatedAt time.Time
	// ExpiresAt is when every entry named has expired from the cache anyway;
	// the record is useless (and purged) after it.
	ExpiresAt time.Time
}

// Invalidations is the outbox of cache invalidations that did not land.
type Invalidations interface {
	// AddInvalidation records inv (its ID is assigned and ignored here).
	AddInvalidation(ctx context.Context, inv *Invalidation) error
	// PendingInvalidations returns up to limit records with an ID above
	// afterID that have not expired at now, in ID order (oldest first), so a
	// reader can page through them all.
	PendingInvalidations(ctx context.Context, now time.Time, afterID int64, limit int) ([]*Invalidation, error)
	// DeleteInvalidations removes records by id; absent ids are not an error.
	DeleteInvalidations(ctx context.Context, ids []int64) error
}

// RegistrationToken is an initial access token for dynamic client
// registration (RFC 7591 §3): only its SHA-256 is stored.
type RegistrationToken struct {
	Hash      []byte // SHA-256 of the token; primary key
	ExpiresAt time.Time
	MaxUses   int
	Uses      int
	CreatedAt time.Time
}

// RegistrationTokens stores initial access tokens.
type RegistrationTokens interface {
	// CreateRegistrationToken inserts t (Uses is ignored: a new token has
	// none); ErrConflict if t.Hash exists.
	CreateRegistrationToken(ctx context.Context, t *RegistrationToken) error
	// UseRegistrationToken spends one use of the token with that hash, as one
	// atomic step: of concurrent callers, no more than MaxUses succeed.
	// ErrNotFound if there is no such token, it expired before now, or its
	// uses are spent.
	UseRegistrationToken(ctx context.Context, hash []byte, now time.Time) error
}

// PushedRequest is a pushed authorization request (RFC 9126 §2): the
// parameters the pushed authorization request endpoint validated, kept until
// the authorization endpoint uses them once or they expire. Only the SHA-256
// of the request_uri is stored, so the table cannot be replayed.
type PushedRequest struct {
	Hash     []byte // SHA-256 of the request_uri; primary key
	ClientID string // the client that pushed it: only it may use it (RFC 9126 §4)
	// Params are the validated authorization request parameters,
	// application/x-www-form-urlencoded.
	Params    string
	ExpiresAt time.Time
	CreatedAt time.Time
}

// PushedRequests stores pushed authorization requests.
type PushedRequests interface {
	// CreatePushedRequest inserts r; ErrConflict if r.Hash exists.
	CreatePushedRequest(ctx context.Context, r *PushedRequest) error
	// ConsumePushedRequest deletes and returns the request with that hash
	// pushed by clientID, as one atomic step: of concurrent callers, at most
	// one gets it. ErrNotFound if there is none, it expired before now, or
	// another client pushed it (which leaves it in place).
	ConsumePushedRequest(ctx context.Context, hash []byte, clientID string, now time.Time) (*PushedRequest, error)
}

// Device authorization states (RFC 8628 §3.3 to §3.5). A row is pending until
// the user decides; an approved row becomes redeemed when a poll takes it, and
// a redeemed row is never returned again.
const (
	DevicePending  = "pending"
	DeviceApproved = "approved"
	DeviceDenied   = "denied"
	DeviceRedeemed = "redeemed"
)

// DeviceAuthorization is a device authorization request (RFC 8628 §3.1) as
// stored: only hashes of the device code and the user code, so the table
// cannot be used to poll or to approve.
type DeviceAuthorization struct {
	DeviceCodeHash []byte // SHA-256 of the device_code; primary key
	UserCodeHash   []byte // keyed hash of the normalised user_code; unique
	ClientID       string
	Scope          string
	// Resources are the resource indicators asked for (RFC 8707 §2.1).
	Resources []string
	Status    string // DevicePending, DeviceApproved, DeviceDenied or DeviceRedeemed
	// Subject, AuthTime and UserGeneration are set by the user's decision.
	Subject        string
	AuthTime       time.Time
	UserGeneration int64
	// Interval is the minimum time between polls (RFC 8628 §3.2), which
	// grows with every poll that comes sooner (§3.5); whole seconds.
	Interval   time.Duration
	LastPollAt time.Time // zero before the first poll
	// SlowDown reports, on a row PollDeviceAuthorization returned, that this
	// poll came sooner than the interval allowed (and the interval grew).
	SlowDown  bool
	ExpiresAt time.Time
	CreatedAt time.Time
}

// DeviceDecision is what the user decided on the verification page.
type DeviceDecision struct {
	Status         string // DeviceApproved or DeviceDenied
	Subject        string
	AuthTime       time.Time
	UserGeneration int64
}

// DeviceAuthorizations stores device authorization requests.
type DeviceAuthorizations interface {
	// CreateDeviceAuthorization inserts a (Status pending, no poll yet);
	// ErrConflict if its device-code or user-code hash exists.
	CreateDeviceAuthorization(ctx context.Context, a *DeviceAuthorization) error
	// PendingDeviceAuthorization returns the pending request with that
	// user-code hash; ErrNotFound if there is none, it expired before now, or
	// it was decided already (a user code is single-use).
	PendingDeviceAuthorization(ctx context.Context, userCodeHash []byte, now time.Time) (*DeviceAuthorization, error)
	// DecideDeviceAuthorization records d on the pending request with that
	// user-code hash and returns it, as one atomic step: of concurrent
	// decisions exactly one succeeds. ErrNotFound if there is none pending
	// or it expired before now.
	DecideDeviceAuthorization(ctx context.Context, userCodeHash []byte, d DeviceDecision, now time.Time) (*DeviceAuthorization, error)
	// PollDeviceAuthorization records a poll by clientID at now of the
	// request with that device-code hash and returns it as it is after the
	// poll, as one atomic step:
	//   - an approved request becomes redeemed: of concurrent polls exactly
	//     one gets it with Status DeviceRedeemed;
	//   - a pending request polled less than Interval after the previous
	//     poll has its Interval grown by slowDown and is returned with
	//     SlowDown set (RFC 8628 §3.5);
	//   - LastPollAt becomes now.
	// ErrNotFound if there is none, another client asked for it (which
	// changes nothing), or it was redeemed before. Expiry is the caller's to
	// check.
	PollDeviceAuthorization(ctx context.Context, deviceCodeHash []byte, clientID string, now time.Time, slowDown time.Duration) (*DeviceAuthorization, error)
}

// Resource is an API that tokens can be asked for with a resource indicator
// (RFC 8707): a resource server, with the audience, scopes, format and
// lifetime of the access tokens issued for it.
type Resource struct {
	ID string // random, assigned by the caller; primary key
	// Indicator is the resource URI (RFC 8707 §2): absolute, no fragment;
	// unique. It is the aud of tokens issued for the resource.
	Indicator string
	Name      string
	// Scopes are the scopes the resource defines: a token for it carries no
	// other.
	Scopes []string
	// AccessTokenFormat is oauth.FormatJWT or oauth.FormatOpaque; "" keeps
	// the client's.
	AccessTokenFormat string
	// AccessTokenTTL is the lifetime of its tokens; 0 keeps the client's.
	AccessTokenTTL time.Duration
	// IntrospectingClients are the clients (the resource server itself) that
	// introspect tokens for it: they are told only about tokens whose aud is
	// one of their resources.
	IntrospectingClients []string
	CreatedAt            time.Time
	UpdatedAt            time.Time
}

// Resources stores API resources.
type Resources interface {
	// CreateResource inserts r; ErrConflict if its ID or Indicator exists.
	CreateResource(ctx context.Context, r *Resource) error
	// Resource returns the resource with that id, or ErrNotFound.
	Resource(ctx context.Context, id string) (*Resource, error)
	// ResourceByIndicator returns the resource with that indicator (compared
	// exactly), or ErrNotFound.
	ResourceByIndicator(ctx context.Context, indicator string) (*Resource, error)
	// ListResources returns every resource ordered by indicator.
	ListResources(ctx context.Context) ([]*Resource, error)
	// UpdateResource replaces everything but ID and CreatedAt; ErrNotFound
	// if absent, ErrConflict if the new Indicator is another's.
	UpdateResource(ctx context.Context, r *Resource) error
	// DeleteResource removes it; ErrNotFound if absent.
	DeleteResource(ctx context.Context, id string) error
}

// TrustedIssuer is an identity provider whose JWTs authd accepts as a token
// exchange subject or actor token (RFC 8693 §2.1) and as a JWT bearer grant
// assertion (RFC 7523 §2.1).
type TrustedIssuer struct {
	ID string // random, assigned by the caller; primary key
	// Issuer is the iss its tokens carry (compared exactly); unique.
	Issuer string
	// JWKSURI is where its keys are; "" finds them through its OpenID
	// Connect discovery document.
	JWKSURI string
	// Audience is the aud its tokens must carry for authd.
	Audience string
	// SubjectMapping says how a token's sub names a user: user_id,
	// username, email, or none (its tokens map to no user).
	SubjectMapping string
	CreatedAt      time.Time
}

// TrustedIssuers stores trusted issuers.
type TrustedIssuers interface {
	// CreateTrustedIssuer inserts ti; ErrConflict if its ID or Issuer exists.
	CreateTrustedIssuer(ctx context.Context, ti *TrustedIssuer) error
	// TrustedIssuer returns the one with that id, or ErrNotFound.
	TrustedIssuer(ctx context.Context, id string) (*TrustedIssuer, error)
	// TrustedIssuerByIssuer returns the one with that issuer (compared
	// exactly), or ErrNotFound.
	TrustedIssuerByIssuer(ctx context.Context, issuer string) (*TrustedIssuer, error)
	// ListTrustedIssuers returns every one ordered by issuer.
	ListTrustedIssuers(ctx context.Context) ([]*TrustedIssuer, error)
	// DeleteTrustedIssuer removes it; ErrNotFound if absent.
	DeleteTrustedIssuer(ctx context.Context, id string) error
}

// SessionClient records that a client was issued a code in a browser
// session: when the session ends, the client is sent a logout notification.
type SessionClient struct {
	SID      string // the session id (Back-Channel Logout §2.1); with ClientID the key
	ClientID string
	Subject  string
	// ExpiresAt is when the session ends anyway; the row is purged after it.
	ExpiresAt time.Time
}

// LogoutNotification is one logout token to deliver to a client's
// backchannel_logout_uri (Back-Channel Logout §2.5). The token itself is
// built at each attempt, so its iat and exp are fresh.
type LogoutNotification struct {
	ID        string // random; primary key
	ClientID  string
	Subject   string
	SID       string
	CreatedAt time.Time
	// ExpiresAt is the maximum age: the notification is given up, and
	// purged, after it.
	ExpiresAt     time.Time
	NextAttemptAt time.Time
	// Attempts and LeaseUntil are set by the store (ignored on insert):
	// ClaimLogouts counts the attempt and leases the row.
	Attempts   int
	LeaseUntil time.Time
}

// Logouts is the logout outbox: which clients took part in which session,
// and the notifications waiting to be delivered to them, at least once.
type Logouts interface {
	// AddSessionClient records sc; recording a (SID, ClientID) pair again
	// keeps the later ExpiresAt.
	AddSessionClient(ctx context.Context, sc *SessionClient) error
	// SessionClients returns the clients of the sessions with those ids, or
	// of every session of subject when sids is nil, ordered by SID then
	// ClientID. Expired rows may be returned.
	SessionClients(ctx context.Context, subject string, sids []string) ([]*SessionClient, error)
	// EnqueueLogouts inserts ns and deletes the session-client rows of
	// endedSIDs (of subject), in one transaction: all or none, so a session's
	// clients are forgotten only once their notifications are durable.
	// ErrConflict if an ID exists.
	EnqueueLogouts(ctx context.Context, subject string, endedSIDs []string, ns []*LogoutNotification) error
	// ClaimLogouts leases up to limit notifications that are due at now
	// (NextAttemptAt ≤ now), not leased (LeaseUntil ≤ now) and not expired
	// (ExpiresAt > now), oldest due first: it sets LeaseUntil = now+lease
	// and counts an attempt, as one atomic step, so of concurrent claimers
	// each row goes to one. The rows are returned as updated.
	ClaimLogouts(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*LogoutNotification, error)
	// AckLogout deletes a notification (delivered, or given up); absent is
	// not an error.
	AckLogout(ctx context.Context, id string) error
	// RetryLogout releases n's lease and makes it due again at next, if n is
	// still leased as claimed (n.LeaseUntil): a worker whose lease ran out
	// and was claimed by another changes nothing. ErrNotFound otherwise.
	RetryLogout(ctx context.Context, n *LogoutNotification, next time.Time) error
}

// Purger deletes what has expired, in bounded batches so no lock is held long.
type Purger interface {
	// PurgeExpired deletes up to limit expired rows of each kind (access tokens,
	// revocations, codes, refresh tokens, sessions, keys past PublishUntil,
	// invalidations, registration tokens, pushed requests, device
	// authorizations, session clients, logout notifications past their
	// maximum age) with expiry before now, and returns how many rows it deleted in all.
	PurgeExpired(ctx context.Context, now time.Time, limit int) (int, error)
}

// Store is everything a backend provides. Services should take the narrow
// interface they use, not this.
type Store interface {
	Clients
	AccessTokens
	Revocations
	SigningKeys
	Users
	AuthCodes
	RefreshTokens
	Consents
	Sessions
	Audit
	ScopeDescriptions
	Invalidations
	DataKeys
	RegistrationTokens
	PushedRequests
	DeviceAuthorizations
	Resources
	TrustedIssuers
	Logouts
	Purger
	// Ping reports whether the backend answers.
	Ping(ctx context.Context) error
	// Close releases every connection.
	Close() error
}

// EncodeMetadata is how backends store oauth.Client.Metadata: JSON, "{}"
// when empty.
func EncodeMetadata(m oauth.ClientMetadata) (string, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("encode client metadata: %w", err)
	}
	return string(b), nil
}

// DecodeMetadata reads what EncodeMetadata wrote.
func DecodeMetadata(s string) (oauth.ClientMetadata, error) {
	var m oauth.ClientMetadata
	if s == "" || s == "{}" {
		return m, nil
	}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return m, fmt.Errorf("decode client metadata: %w", err)
	}
	return m, nil
}
