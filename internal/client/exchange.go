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
