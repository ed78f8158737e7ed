package secevent

import "time"

// Event is one security-relevant thing that happened.
type Event struct {
	Type     string // one of the constants below
	ClientID string
	Subject  string
	IP       string
	// Detail is extra context (grant type, reason, scope). It is stored as a
	// JSON object and must never hold a secret or a token; Emit takes
	// ownership, so the caller must not change the map afterwards.
	Detail map[string]string
	// Time is when it happened; zero means when Emit is called.
	Time time.Time
}

// Event types. They are stored as they are, so never rename one.
//
// The refusals an attacker can trigger at will (ratelimit.exceeded,
// client.auth_failed, login.failed, token.enumeration, admin.auth_failed,
// login.locked_out, device.user_code_failed) are aggregated: see the package documentation.
const (
	TokenIssued  = "token.issued"
	TokenRevoked = "token.revoked"
	// TokenIntrospected is the busiest event by far; emitters may sample it.
	TokenIntrospected = "token.introspected"
	ClientAuthFailed  = "client.auth_failed"
	LoginSucceeded    = "login.succeeded"
	LoginFailed       = "login.failed"
	PasswordRehashed  = "password.rehashed"
	// RefreshReused: a rotated refresh token came back, so its family was revoked.
	RefreshReused = "refresh.reused"
	// CodeReused: an authorization code was redeemed twice, so what it issued was revoked.
	CodeReused        = "code.reused"
	RateLimitExceeded = "ratelimit.exceeded"
	// TokenEnumeration: a caller got too many inactive introspection answers.
	TokenEnumeration   = "token.enumeration"
	AdminClientCreated = "admin.client_created"
	AdminClientDeleted = "admin.client_deleted"
	AdminKeyRotated    = "admin.key_rotated"
	AdminUserCreated   = "admin.user_created"
	AdminUserDeleted   = "admin.user_deleted"
	AdminScopeUpdated  = "admin.scope_updated"
	AdminScopeDeleted  = "admin.scope_deleted"

	// AdminAuthFailed: a request to the admin API without a valid admin
	// token. IP is the caller; Detail may say why ("reason": "missing",
	// "invalid"), never what was presented.
	AdminAuthFailed = "admin.auth_failed"
	// AdminClientUpdated: a client's metadata was changed through the admin API.
	AdminClientUpdated = "admin.client_updated"
	// AdminClientSecretRotated: a client was given a new secret. The event
	// never carries the secret, old or new.
	AdminClientSecretRotated = "admin.client_secret_rotated"
	// UserPasswordChanged: a user's password was set or changed (Subject is
	// the user), by the user or an administrator ("by" in Detail).
	UserPasswordChanged = "user.password_changed"
	// UserDisabled and UserEnabled: an account was barred from or restored to
	// logging in.
	UserDisabled = "user.disabled"
	UserEnabled  = "user.enabled"
	// UserUpdated: a user's attributes other than password and status changed.
	UserUpdated = "user.updated"
	// UserUnlocked: an administrator cleared an account's failed-login budget.
	UserUnlocked = "user.unlocked"
	// UserSessionsEnded: an administrator signed a user out everywhere
	// (their relying parties are told, OpenID Connect Back-Channel Logout).
	UserSessionsEnded = "user.sessions_ended"
	// LoginLockedOut: a login refused, without checking the password, because
	// the account's failure budget is spent (ASVS 4.0.3 V2.2.1). Subject is the
	// account when it is known; Detail "limit" names the budget.
	LoginLockedOut = "login.locked_out"
	// ClientRegistered, ClientRegistrationUpdated, ClientRegistrationDeleted:
	// a client registered itself or changed or removed its registration
	// (RFC 7591, RFC 7592). Detail "by" says with what: an initial access
	// token, open registration, or the client's registration access token.
	ClientRegistered          = "client.registered"
	ClientRegistrationUpdated = "client.registration_updated"
	ClientRegistrationDeleted = "client.registration_deleted"
	// RegistrationTokenCreated: an administrator minted an initial access token.
	RegistrationTokenCreated = "admin.registration_token_created"
	// AdminResourceCreated, AdminResourceUpdated and AdminResourceDeleted:
	// an API resource (RFC 8707) was changed; Detail names its id and
	// indicator.
	AdminResourceCreated = "admin.resource_created"
	AdminResourceUpdated = "admin.resource_updated"
	AdminResourceDeleted = "admin.resource_deleted"
	// DeviceApproved and DeviceDenied: a signed-in user decided a device
	// authorization request (RFC 8628 §3.3) of ClientID on the verification
	// page. DeviceUserCodeFailed: a user code entered there was wrong,
	// expired or used (RFC 8628 §5.1: the brute force this grant invites).
	DeviceApproved       = "device.approved"
	DeviceDenied         = "device.denied"
	DeviceUserCodeFailed = "device.user_code_failed"
	// AdminTrustedIssuerCreated and AdminTrustedIssuerDeleted: an issuer
	// whose JWTs authd accepts (token exchange, JWT bearer) was added or
	// removed; Detail names its id and issuer.
	AdminTrustedIssuerCreated = "admin.trusted_issuer_created"
	AdminTrustedIssuerDeleted = "admin.trusted_issuer_deleted"
	// TokenExchanged: a token was issued by token exchange (RFC 8693).
	// Subject is the subject token's; Detail names the actor ("actor", ""
	// for impersonation), the subject and actor token types, and the
	// subject token's issuer.
	TokenExchanged = "token.exchanged"
)

// Types lists every event type above, so that a counter of each exists (at
// zero) before its first event: an alert on an increase sees the first one.
func Types() []string {
	return []string{
		TokenIssued, TokenRevoked, TokenIntrospected, ClientAuthFailed, LoginSucceeded, LoginFailed,
		PasswordRehashed, RefreshReused, CodeReused, RateLimitExceeded, TokenEnumeration,
		AdminClientCreated, AdminClientDeleted, AdminKeyRotated, AdminUserCreated, AdminUserDeleted,
		AdminScopeUpdated, AdminScopeDeleted, AdminAuthFailed, AdminClientUpdated, AdminClientSecretRotated,
		UserPasswordChanged, UserDisabled, UserEnabled, UserUpdated, UserUnlocked, LoginLockedOut,
		ClientRegistered, ClientRegistrationUpdated, ClientRegistrationDeleted, RegistrationTokenCreated,
		AdminResourceCreated, AdminResourceUpdated, AdminResourceDeleted,
		UserSessionsEnded, DeviceApproved, DeviceDenied, DeviceUserCodeFailed,
		AdminTrustedIssuerCreated, AdminTrustedIssuerDeleted, TokenExchanged,
	}
}

// Emitter is what event producers depend on. Emit must not block.
type Emitter interface {
	Emit(Event)
}

// Discard is an Emitter that drops every event, for tests and for callers
// that were given no pipeline.
type Discard struct{}

// Emit does nothing.
func (Discard) Emit(Event) {}

var (
	_ Emitter = Discard{}
	_ Emitter = (*Pipeline)(nil)
)
