package token

import (
	"encoding/json"

	"github.com/authd/authd/internal/keys"
)

// TypeIntrospectionJWT is the JOSE typ (and, with "application/", the media
// type) of a JWT introspection response (RFC 9701 §5, §12.3), so that it
// cannot be taken for an access token or an id_token (§8.1).
const TypeIntrospectionJWT = "token-introspection+jwt"

// introspectionClaims is RFC 9701 §5: who answers, for whom, when, and the
// RFC 7662 answer itself as one member.
type introspectionClaims struct {
	Iss                string          `json:"iss"`
	Aud                string          `json:"aud"`
	Iat                int64           `json:"iat"`
	TokenIntrospection json.RawMessage `json:"token_introspection"`
}

// SignIntrospection is info as an RFC 9701 JWT response for the
// introspecting client audience (§5: aud is that client's id). It is signed
// with the id_token key, whose algorithm discovery advertises as
// introspection_signing_alg_values_supported: a response for a resource
// server to trust, like an id_token for a client, and kept apart from both
// by its typ.
func (s *Service) SignIntrospection(info *Info, audience string) (string, error) {
	c := introspectionClaims{
		Iss:                s.opts.Issuer,
		Aud:                audience,
		Iat:                s.opts.Now().Unix(),
		TokenIntrospection: info.AppendJSON(make([]byte, 0, 320)),
	}
	payload, err := json.Marshal(&c)
	if err != nil {
		return "", err
	}
	return s.signer.Sign(keys.PurposeIDToken, TypeIntrospectionJWT, payload)
}
