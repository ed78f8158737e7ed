package storetest

import (
	"fmt"
	"time"

	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/store"
)

// Fixtures fill every field with a distinct value, so a column swapped or dropped
// by a backend shows up as a mismatch.

func client(id string) *oauth.Client {
	return &oauth.Client{
		ID:                      id,
		SecretHash:              sum("secret-" + id),
		Name:                    "Client " + id + " ✓",
		GrantTypes:              []string{oauth.GrantAuthorizationCode, oauth.GrantRefreshToken},
		RedirectURIs:            []string{"https://app.example/cb?x=1", "http://127.0.0.1:8080/callback"},
		PostLogoutRedirectURIs:  []string{"https://app.example/signed-out?a=1&b=é", "com.example.app:/logout"},
		Scopes:                  []string{"openid", "profile", "email"},
		TokenEndpointAuthMethod: oauth.AuthMethodBasic,
		AccessTokenFormat:       oauth.FormatOpaque,
		AccessTokenTTL:          90*time.Second + 123*time.Nanosecond,
		FirstParty:              true,
		AllowedCORSOrigins:      []string{"https://spa.example", "http://127.0.0.1:5173"},
		Metadata: oauth.ClientMetadata{
			JWKS:    []byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"` + id + `"}]}`),
			JWKSURI: "https://app.example/jwks-" + id,
			FederatedCredentials: []oauth.FederatedCredential{
				{Issuer: "https://kubernetes.default.svc", Subject: "system:serviceaccount:ns:" + id, Audience: "https://authd.example"},
				{Issuer: "https://token.actions.example", Subject: "repo:o/" + id, JWKSURI: "https://token.actions.example/jwks"},
			},
			DPoPBoundAccessTokens:                 true,
			TLSClientAuthSubjectDN:                "CN=" + id + ",O=Example",
			TLSClientAuthSANDNS:                   id + ".example",
			TLSClientAuthSANURI:                   "spiffe://example/" + id,
			TLSClientAuthSANIP:                    "192.0.2.7",
			TLSClientAuthSANEmail:                 id + "@example.com",
			TLSClientCertificateBoundAccessTokens: true,
			ClientURI:                             "https://app.example/" + id,
			LogoURI:                               "https://app.example/logo.png",
			PolicyURI:                             "https://app.example/policy",
			TOSURI:                                "https://app.example/tos",
			Contacts:                              []string{"ops@example.com", "é@example.com"},
			SoftwareID:                            "4NRB1-0XZABZI9E6-5SM3R",
			SoftwareVersion:                       "2.1",
		},
		RegistrationTokenHash: sum("registration-" + id),
		SecretSealed:          []byte("sealed\x00secret-" + id),
		CreatedAt:             t0(),
		UpdatedAt:             t0().Add(time.Minute),
	}
}

func registrationToken(name string) *store.RegistrationToken {
	return &store.RegistrationToken{
		Hash:      sum("initial-access-" + name),
		ExpiresAt: t0().Add(24 * time.Hour),
		MaxUses:   3,
		CreatedAt: t0(),
	}
}

func accessToken(i int, grantID string) *store.AccessToken {
	return &store.AccessToken{
		Hash:           sum(fmt.Sprintf("access-%d-%s", i, grantID)),
		ClientID:       fmt.Sprintf("client-%d", i%7),
		Subject:        fmt.Sprintf("subject-%d", i),
		Scope:          "openid profile",
		Audience:       []string{"https://api.example", fmt.Sprintf("aud-%d", i)},
		GrantID:        grantID,
		UserGeneration: int64(i%5 + 1),
		Cnf:            confirmation(i),
		IssuedAt:       t0().Add(time.Duration(i) * time.Second),
		ExpiresAt:      t0().Add(time.Hour + time.Duration(i)*time.Second),
		Act:            actClaim(i),
	}
}

// actClaim gives every other token an RFC 8693 act claim, so the column
// is seen both ways (and through COPY on PostgreSQL).
func actClaim(i int) string {
	if i%2 == 0 {
		return ""
	}
	return fmt.Sprintf(`{"sub":"actor-%d","act":{"sub":"first"}}`, i)
}

// confirmation cycles through a bearer token, a DPoP-bound one, a
// certificate-bound one and one with both, so each column is seen apart.
func confirmation(i int) oauth.Confirmation {
	jkt, x5t := fmt.Sprintf("jkt-%d-0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I", i), fmt.Sprintf("x5t-%d-bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2", i)
	switch i % 4 {
	case 1:
		return oauth.Confirmation{JKT: jkt}
	case 2:
		return oauth.Confirmation{X5TS256: x5t}
	case 3:
		return oauth.Confirmation{JKT: jkt, X5TS256: x5t}
	}
	return oauth.Confirmation{}
}

// signingKey is created at t0()+offset so tests control the newest-first order.
func signingKey(id string, offset time.Duration) *store.SigningKey {
	return &store.SigningKey{
		ID:         id,
		Algorithm:  "ES256",
		PrivateKey: append([]byte{0, 1, 2, 0xff}, sum("private-"+id)...),
		PublicJWK:  []byte(`{"kty":"EC","crv":"P-256","kid":"` + id + `","x":"x","y":"y"}`),
		CreatedAt:  t0().Add(offset),
	}
}

func user(id, username string) *store.User {
	return &store.User{
		ID:       id,
		Username: username,
		UserProfile: store.UserProfile{
			Email:         username + "@example.com",
			EmailVerified: true,
			Name:          "Name " + username + " ✓",
			GivenName:     "Given " + username,
			FamilyName:    "Family " + username,
			PhoneNumber:   "+1 555 0100",
			Address:       &store.Address{StreetAddress: "1 Main St\n2nd floor", Locality: "Springfield", Country: "US"},
		},
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaA-" + id,
		Disabled:     false,
		Generation:   3,
		CreatedAt:    t0(),
		UpdatedAt:    t0().Add(time.Second),
	}
}

func authCode(name string) *store.AuthCode {
	return &store.AuthCode{
		Hash:           sum("code-" + name),
		ClientID:       "client-" + name,
		RedirectURI:    "https://app.example/cb",
		Subject:        "subject-" + name,
		Scope:          "openid email",
		Nonce:          "nonce-" + name,
		CodeChallenge:  "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		AuthTime:       t0().Add(-time.Minute),
		GrantID:        "grant-" + name,
		UserGeneration: 7,
		DPoPJKT:        "jkt-" + name,
		Resources:      []string{"https://api.example/" + name, "https://other.example/"},
		SID:            "sid-" + name,
		ExpiresAt:      t0().Add(time.Minute),
	}
}

func refreshToken(name, grantID string) *store.RefreshToken {
	return &store.RefreshToken{
		Hash:           sum("refresh-" + name),
		GrantID:        grantID,
		ClientID:       "client-" + grantID,
		Subject:        "subject-" + grantID,
		Scope:          "openid offline_access",
		AuthTime:       t0().Add(-time.Hour),
		UserGeneration: 2,
		Cnf:            oauth.Confirmation{JKT: "jkt-" + name, X5TS256: "x5t-" + name},
		Resources:      []string{"https://api.example/" + grantID},
		IssuedAt:       t0(),
		ExpiresAt:      t0().Add(30 * 24 * time.Hour),
	}
}

func session(name string) *store.Session {
	return &store.Session{
		Hash:      sum("session-" + name),
		Subject:   "subject-" + name,
		AuthTime:  t0().Add(-time.Second),
		ExpiresAt: t0().Add(8 * time.Hour),
	}
}

func resource(name string) *store.Resource {
	return &store.Resource{
		ID:                   "res-" + name,
		Indicator:            "https://api.example/" + name,
		Name:                 "API " + name,
		Scopes:               []string{name + ":read", name + ":write"},
		AccessTokenFormat:    oauth.FormatOpaque,
		AccessTokenTTL:       5 * time.Minute,
		IntrospectingClients: []string{"rs-" + name, "gateway"},
		CreatedAt:            t0(),
		UpdatedAt:            t0().Add(time.Second),
	}
}
