package client

import (
	"slices"
	"strings"

	"github.com/authd/authd/internal/oauth"
)

// validProfile checks c against the security profile it will be held to
// (its security_profile, else the server's default), so that a client the
// profile would refuse at every request is refused at registration instead,
// and the per-client PKCE policy.
func (s *Service) validProfile(c *oauth.Client) error {
	p := c.Metadata.SecurityProfile
	if p != "" && !slices.Contains(oauth.Profiles(), p) {
		return invalid("security_profile", "security_profile must be one of "+strings.Join(oauth.Profiles(), ", "))
	}
	if a := c.Metadata.IDTokenSignedResponseAlg; a != "" && !slices.Contains(s.opts.IDTokenAlgs, a) {
		// OpenID Connect Registration §2; never "none": authd signs every
		// id_token.
		return invalid("id_token_signed_response_alg", "id_token_signed_response_alg must be one of "+strings.Join(s.opts.IDTokenAlgs, ", "))
	}
	profile := c.Profile(s.opts.SecurityProfile)
	if rp := c.Metadata.RequirePKCE; rp != nil {
		switch {
		case *rp:
			c.Metadata.RequirePKCE = nil // the default, stored once
		case c.Public():
			// RFC 9700 §2.1.1: public clients must use PKCE.
			return invalid("require_pkce", "a public client must use PKCE")
		case profile == oauth.ProfileFAPI2:
			return invalid("require_pkce", "FAPI 2.0 requires PKCE (Security Profile §5.3.2)")
		}
	}
	for _, g := range c.GrantTypes {
		if !oauth.AllowsProfileGrant(profile, g) {
			return invalid("grant_types", "the "+profile+" profile does not allow the "+g+" grant")
		}
	}
	if profile == oauth.ProfileFAPI2 && !slices.Contains(oauth.FAPI2AuthMethods, c.TokenEndpointAuthMethod) {
		// FAPI 2.0 Security Profile §5.3.2: confidential clients only,
		// authenticating with a key.
		return invalid("token_endpoint_auth_method", "the fapi2 profile needs "+strings.Join(oauth.FAPI2AuthMethods, ", "))
	}
	return nil
}
