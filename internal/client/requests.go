package client

import (
	"slices"
	"strings"

	"github.com/authd/authd/internal/authzreq"
	"github.com/authd/authd/internal/oauth"
)

// validRequestMetadata checks the members that say how the client sends
// authorization requests (RFC 9126 §6, RFC 9101 §10.5); out has the keys
// validKeyMetadata already kept.
func validRequestMetadata(out oauth.ClientMetadata) error {
	// require_pushed_authorization_requests is a flag: any value is valid.
	if a := out.RequestObjectSigningAlg; a != "" {
		// RFC 9101 §10.5 (OpenID Connect Registration §2): "none" would
		// mean unsigned objects, which authd does not accept, and HMAC
		// would need the secret in a recoverable form.
		if !slices.Contains(authzreq.Algorithms(), a) {
			return invalid("request_object_signing_alg", "request_object_signing_alg must be one of "+strings.Join(authzreq.Algorithms(), ", "))
		}
		if len(out.JWKS) == 0 && out.JWKSURI == "" {
			return invalid("request_object_signing_alg", "request objects are verified with the client's keys: jwks or jwks_uri is required")
		}
	}
	return nil
}
