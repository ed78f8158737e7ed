package oauth

import "slices"

// Security profiles a client is held to (client metadata security_profile,
// or the server's default).
const (
	// ProfileDefault: what authd does for every client (PKCE S256, exact
	// redirect URIs, rotating refresh tokens).
	ProfileDefault = "default"
	// ProfileOAuth21: OAuth 2.1 (draft-ietf-oauth-v2-1): also no password
	// grant. PKCE for every client and one-time refresh tokens for public
	// clients are authd's default already.
	ProfileOAuth21 = "oauth2.1"
	// ProfileFAPI2: the FAPI 2.0 Security Profile (§5): pushed authorization
	// requests, confidential clients authenticating with private_key_jwt or
	// mutual TLS (aud the issuer alone), sender-constrained access tokens,
	// PS256/ES256/EdDSA, no password grant.
	ProfileFAPI2 = "fapi2"
)

// Profiles are the security_profile values.
func Profiles() []string { return []string{ProfileDefault, ProfileOAuth21, ProfileFAPI2} }

// FAPI2AuthMethods are FAPI 2.0 Security Profile §5.3.2's client
// authentication methods: private_key_jwt and mutual TLS (RFC 8705).
var FAPI2AuthMethods = []string{AuthMethodPrivateKeyJWT, AuthMethodTLS, AuthMethodSelfSignedTLS}

// FAPI2Algorithms are FAPI 2.0 Security Profile §5.4's signature
// algorithms (EdDSA with Ed25519, under either name, RFC 9864).
var FAPI2Algorithms = []string{"PS256", "ES256", "EdDSA", "Ed25519"}

// Profile is the security profile c is held to: its own, else def, else
// ProfileDefault.
func (c *Client) Profile(def string) string {
	switch {
	case c.Metadata.SecurityProfile != "":
		return c.Metadata.SecurityProfile
	case def != "":
		return def
	}
	return ProfileDefault
}

// RequiresPKCE reports whether c must use PKCE: always, unless it is a
// confidential client registered with require_pkce false outside FAPI 2.0
// (§5.3.2 requires PKCE); such a client must send an OpenID Connect nonce
// instead (RFC 9700 §2.1.1).
func (c *Client) RequiresPKCE(profile string) bool {
	if c.Public() || profile == ProfileFAPI2 {
		return true
	}
	return c.Metadata.RequirePKCE == nil || *c.Metadata.RequirePKCE
}

// AllowsProfileGrant reports whether profile permits grant: neither OAuth
// 2.1 nor FAPI 2.0 has the password grant.
func AllowsProfileGrant(profile, grant string) bool {
	return grant != GrantPassword || !slices.Contains([]string{ProfileOAuth21, ProfileFAPI2}, profile)
}

// ACRPassword is the one authentication context authd signs people in with
// (the id_token's acr, OpenID Connect Core §2): a password, ISO/IEC 29115
// level 1, which acr "1" conventionally names. AMRPassword is its RFC 8176
// amr value.
const (
	ACRPassword = "1"
	AMRPassword = "pwd"
)
