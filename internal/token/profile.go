package token

import (
	"slices"

	"github.com/authd/authd/internal/oauth"
)

// holdToProfile applies the client's security profile to a token request
// whose client has authenticated, and returns what its tokens are bound to.
func (s *Service) holdToProfile(c *oauth.Client, req *Request, cnf oauth.Confirmation) (oauth.Confirmation, error) {
	profile := c.Profile(s.opts.SecurityProfile)
	if !oauth.AllowsProfileGrant(profile, req.GrantType) {
		// OAuth 2.1 (draft-ietf-oauth-v2-1 §1.8, §10) and FAPI 2.0 drop the password
		// grant; a client registered for it before the profile was set
		// cannot use it now.
		return cnf, oauth.UnauthorizedClient("the " + profile + " profile does not allow the " + req.GrantType + " grant")
	}
	if profile != oauth.ProfileFAPI2 {
		return cnf, nil
	}
	if req.DPoPJKT != "" && !slices.Contains(oauth.FAPI2Algorithms, req.DPoPAlg) {
		// FAPI 2.0 Security Profile §5.4: PS256, ES256 or EdDSA.
		return cnf, invalidDPoPProof("the fapi2 profile takes DPoP proofs signed with PS256, ES256 or EdDSA")
	}
	if cnf.Bound() {
		return cnf, nil
	}
	// FAPI 2.0 Security Profile §5.3.2: sender-constrained access
	// tokens, by DPoP or mutual TLS. A certificate on the connection binds
	// them when no DPoP proof does (RFC 8705 §3).
	if req.CertThumbprint != "" {
		cnf.X5TS256 = req.CertThumbprint
		return cnf, nil
	}
	return cnf, oauth.InvalidRequest("the fapi2 profile needs sender-constrained tokens: send a DPoP proof or connect with a client certificate")
}
