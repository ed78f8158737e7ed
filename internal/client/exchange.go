package client

import "github.com/authd/authd/internal/oauth"

// validExchangeMetadata checks allow_impersonation: it only means something
// for a client of the token-exchange grant (RFC 8693 §1.1: impersonation
// is exchanging a subject token without an actor token), and such a power
// goes only to a client that proves who it is.
func validExchangeMetadata(c *oauth.Client) error {
	if !c.Metadata.AllowImpersonation {
		return nil
	}
	if !c.AllowsGrant(oauth.GrantTokenExchange) {
		return invalid("allow_impersonation", "allow_impersonation needs grant type "+oauth.GrantTokenExchange)
	}
	if c.Public() {
		return invalid("allow_impersonation", "allow_impersonation needs a confidential client (token_endpoint_auth_method other than none)")
	}
	return nil
}

// operatorGrants are the grants a client may not give itself by open
// registration or by updating its registration (RFC 7591 §3.2.2: the server
// decides what metadata it accepts): each lets a client obtain tokens for
// someone other than a person who consented at the authorization endpoint
// (itself, a password, another token's subject, a trusted issuer's user).
var operatorGrants = []string{oauth.GrantClientCredentials, oauth.GrantPassword, oauth.GrantTokenExchange, oauth.GrantJWTBearer}

// selfRegisteredImpersonation refuses allow_impersonation to a client that
// registers itself (RFC 7591) or updates its own registration (RFC 7592),
// unless the operator had already allowed it (cur): only an administrator
// decides that a client may act as others without showing it.
func selfRegisteredImpersonation(next, cur *oauth.Client) error {
	if next.Metadata.AllowImpersonation && (cur == nil || !cur.Metadata.AllowImpersonation) {
		return invalid("allow_impersonation", "only the operator may allow impersonation; ask for it")
	}
	return nil
}
