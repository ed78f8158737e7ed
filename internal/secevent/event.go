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
)

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
