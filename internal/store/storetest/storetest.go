package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/store"
)

// testCase is one conformance case; it gets its own empty store.
type testCase struct {
	name string
	fn   func(t *testing.T, s store.Store)
}

// Run runs the conformance suite. open must return a fresh, migrated, empty store
// for the test it is given and close it when that test ends (t.Cleanup). open is
// called from parallel subtests, so it must be safe for concurrent use.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	groups := []struct {
		name  string
		cases []testCase
	}{
		{"Clients", clientCases()},
		{"AccessTokens", accessTokenCases()},
		{"Revocations", revocationCases()},
		{"SigningKeys", signingKeyCases()},
		{"Users", userCases()},
		{"AuthCodes", authCodeCases()},
		{"RefreshTokens", refreshTokenCases()},
		{"Consents", consentCases()},
		{"Sessions", sessionCases()},
		{"Audit", auditCases()},
		{"Invalidations", invalidationCases()},
		{"ScopeDescriptions", scopeDescriptionCases()},
		{"DataKeys", dataKeyCases()},
		{"RegistrationTokens", registrationTokenCases()},
		{"PushedRequests", pushedRequestCases()},
		{"DeviceAuthorizations", deviceAuthorizationCases()},
		{"Resources", resourceCases()},
		{"TrustedIssuers", trustedIssuerCases()},
		{"Logouts", logoutCases()},
		{"PurgeExpired", purgeCases()},
		{"Backend", backendCases()},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range g.cases {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.fn(t, open(t))
				})
			}
		})
	}
}

func backendCases() []testCase {
	return []testCase{
		{"Ping", func(t *testing.T, s store.Store) {
			if err := s.Ping(t.Context()); err != nil {
				t.Fatalf("Ping: %v", err)
			}
		}},
		{"ExpiredDeadlineIsUnavailable", func(t *testing.T, s store.Store) {
			// The contract's "timed out" is ErrUnavailable; the original cause must
			// stay visible so callers can tell a deadline from a refused connection.
			ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
			defer cancel()
			check := func(op string, err error) {
				t.Helper()
				if !errors.Is(err, store.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("%s with expired deadline: got %v, want ErrUnavailable wrapping context.DeadlineExceeded", op, err)
				}
			}
			_, err := s.Client(ctx, "c1")
			check("Client", err)
			tok := accessToken(1, "g1")
			check("CreateAccessTokens", s.CreateAccessTokens(ctx, []*store.AccessToken{tok}))
			_, err = s.RedeemAuthCode(ctx, sum("code"), t0())
			check("RedeemAuthCode", err)
			if _, err := s.AccessToken(t.Context(), tok.Hash); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("token written under an expired deadline: AccessToken = %v, want ErrNotFound", err)
			}
		}},
	}
}

// t0 is the fixtures' base time. It has a sub-microsecond part and a non-UTC
// zone on purpose: backends must truncate (not round) to microseconds and return UTC.
func t0() time.Time {
	return time.Date(2031, 3, 4, 5, 6, 7, 891234567, time.FixedZone("UTC+2", 2*3600))
}

// sum is the SHA-256 of s, standing in for a hashed token or secret.
func sum(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// wantErr fails unless errors.Is(err, target); target nil means success.
func wantErr(t *testing.T, op string, err, target error) {
	t.Helper()
	switch {
	case target == nil && err != nil:
		t.Fatalf("%s: unexpected error: %v", op, err)
	case target != nil && !errors.Is(err, target):
		t.Fatalf("%s: got error %v, want %v", op, err, target)
	}
}

// mustEqual compares records after both went through norm.
func mustEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s mismatch:\n got: %s\nwant: %s", what, show(got), show(want))
	}
}

func show(v any) string {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer && !rv.IsNil() {
		return fmt.Sprintf("%+v", rv.Elem().Interface())
	}
	return fmt.Sprintf("%+v", v)
}

// wantTime is how a stored time must come back: truncated to microseconds, in UTC,
// and the zero time unchanged.
func wantTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.Truncate(time.Microsecond).UTC()
}

func stringsOrNil(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func bytesOrNil(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// The want* functions turn what was written into what must be read back; the
// got* functions only make nil and empty slices alike, so a backend that returns a
// local-zone or untruncated time still fails.

func wantClient(c *oauth.Client) *oauth.Client {
	x := gotClient(c)
	x.CreatedAt, x.UpdatedAt = wantTime(c.CreatedAt), wantTime(c.UpdatedAt)
	return x
}

func gotClient(c *oauth.Client) *oauth.Client {
	if c == nil {
		return nil
	}
	x := *c
	x.SecretHash = bytesOrNil(c.SecretHash)
	x.GrantTypes, x.RedirectURIs, x.Scopes = stringsOrNil(c.GrantTypes), stringsOrNil(c.RedirectURIs), stringsOrNil(c.Scopes)
	x.PostLogoutRedirectURIs = stringsOrNil(c.PostLogoutRedirectURIs)
	x.AllowedCORSOrigins = stringsOrNil(c.AllowedCORSOrigins)
	x.RegistrationTokenHash, x.SecretSealed = bytesOrNil(c.RegistrationTokenHash), bytesOrNil(c.SecretSealed)
	x.Metadata.Contacts = stringsOrNil(c.Metadata.Contacts)
	if len(c.Metadata.JWKS) == 0 {
		x.Metadata.JWKS = nil
	}
	if len(c.Metadata.FederatedCredentials) == 0 {
		x.Metadata.FederatedCredentials = nil
	}
	return &x
}

func wantAccessToken(a *store.AccessToken) *store.AccessToken {
	x := gotAccessToken(a)
	x.IssuedAt, x.ExpiresAt = wantTime(a.IssuedAt), wantTime(a.ExpiresAt)
	return x
}

func gotAccessToken(a *store.AccessToken) *store.AccessToken {
	if a == nil {
		return nil
	}
	x := *a
	x.Audience = stringsOrNil(a.Audience)
	return &x
}

func wantKey(k *store.SigningKey) *store.SigningKey {
	x := gotKey(k)
	x.CreatedAt, x.PublishUntil = wantTime(k.CreatedAt), wantTime(k.PublishUntil)
	return x
}

func gotKey(k *store.SigningKey) *store.SigningKey {
	if k == nil {
		return nil
	}
	x := *k
	x.PrivateKey, x.PublicJWK = bytesOrNil(k.PrivateKey), bytesOrNil(k.PublicJWK)
	return &x
}

func wantUser(u *store.User) *store.User {
	if u == nil {
		return nil
	}
	x := *u
	x.CreatedAt, x.UpdatedAt = wantTime(u.CreatedAt), wantTime(u.UpdatedAt)
	return &x
}

func wantAuthCode(c *store.AuthCode) *store.AuthCode {
	if c == nil {
		return nil
	}
	x := *c
	x.AuthTime, x.ExpiresAt = wantTime(c.AuthTime), wantTime(c.ExpiresAt)
	return &x
}

func wantRefreshToken(r *store.RefreshToken) *store.RefreshToken {
	if r == nil {
		return nil
	}
	x := *r
	x.AuthTime, x.IssuedAt, x.ExpiresAt = wantTime(r.AuthTime), wantTime(r.IssuedAt), wantTime(r.ExpiresAt)
	x.UsedAt = wantTime(r.UsedAt)
	return &x
}

func wantSession(s *store.Session) *store.Session {
	if s == nil {
		return nil
	}
	x := *s
	x.AuthTime, x.ExpiresAt = wantTime(s.AuthTime), wantTime(s.ExpiresAt)
	return &x
}

func wantAudit(e *store.AuditEvent) *store.AuditEvent {
	if e == nil {
		return nil
	}
	x := *e
	x.Time = wantTime(e.Time)
	return &x
}
