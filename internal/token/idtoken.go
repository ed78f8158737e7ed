package token

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"hash"
	"time"

	"github.com/authd/authd/internal/keys"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/store"
)

// idClaims is an OpenID Connect Core §2 ID Token, with the standard profile and
// email claims (§5.1) the granted scopes allow.
type idClaims struct {
	Iss      string `json:"iss"`
	Sub      string `json:"sub"`
	Aud      string `json:"aud"`
	Exp      int64  `json:"exp"`
	Iat      int64  `json:"iat"`
	AuthTime int64  `json:"auth_time,omitempty"`
	Nonce    string `json:"nonce,omitempty"`
	AtHash   string `json:"at_hash,omitempty"`
	// acr and amr (§2, RFC 8176) of an interactive sign-in: a password.
	Acr string   `json:"acr,omitempty"`
	Amr []string `json:"amr,omitempty"`
	// Sid is the browser session's id (Back-Channel Logout §2.1,
	// Front-Channel Logout §3), so a logout token can name the session.
	Sid string `json:"sid,omitempty"`
	userClaims
}

// userClaims are the claims userinfo and the id_token share.
type userClaims struct {
	// OpenID Connect Core §5.4: profile releases the name claims, email the
	// address and whether it was verified (an administrator says so).
	PreferredUsername string `json:"preferred_username,omitempty"`
	Name              string `json:"name,omitempty"`
	GivenName         string `json:"given_name,omitempty"`
	FamilyName        string `json:"family_name,omitempty"`
	Email             string `json:"email,omitempty"`
	EmailVerified     *bool  `json:"email_verified,omitempty"`
	// §5.4: phone releases the number and whether it was verified,
	// address the §5.1.1 address object.
	PhoneNumber         string         `json:"phone_number,omitempty"`
	PhoneNumberVerified *bool          `json:"phone_number_verified,omitempty"`
	Address             *store.Address `json:"address,omitempty"`
}

func claimsFor(u *store.User, scopes []string) userClaims {
	var c userClaims
	if oauth.HasScope(scopes, "profile") {
		c.PreferredUsername, c.Name, c.GivenName, c.FamilyName = u.Username, u.Name, u.GivenName, u.FamilyName
	}
	if oauth.HasScope(scopes, "email") && u.Email != "" {
		verified := u.EmailVerified
		c.Email, c.EmailVerified = u.Email, &verified
	}
	if oauth.HasScope(scopes, "phone") && u.PhoneNumber != "" {
		verified := u.PhoneNumberVerified
		c.PhoneNumber, c.PhoneNumberVerified = u.PhoneNumber, &verified
	}
	if oauth.HasScope(scopes, "address") && !u.Address.IsZero() {
		c.Address = u.Address
	}
	return c
}

func (s *Service) idToken(g *grant, accessToken string, now time.Time) (string, error) {
	// OpenID Connect Registration §2: the client's
	// id_token_signed_response_alg, validated at registration against what
	// the server keeps; else the server's.
	alg := g.client.Metadata.IDTokenSignedResponseAlg
	if alg == "" {
		alg = s.opts.IDTokenAlg
	}
	c := idClaims{
		Iss:        s.opts.Issuer,
		Sub:        g.subject,
		Aud:        g.client.ID,
		Exp:        now.Add(s.opts.IDTokenTTL).Unix(),
		Iat:        now.Unix(),
		Nonce:      g.nonce,
		AtHash:     atHash(alg, accessToken),
		Sid:        g.sid,
		userClaims: claimsFor(g.user, g.scopes),
	}
	if !g.authTime.IsZero() {
		c.AuthTime = g.authTime.Unix()
		c.Acr, c.Amr = oauth.ACRPassword, []string{oauth.AMRPassword}
	}
	payload, err := json.Marshal(&c)
	if err != nil {
		return "", err
	}
	if alg == s.opts.IDTokenAlg {
		return s.signer.Sign(keys.PurposeIDToken, "JWT", payload)
	}
	return s.signer.SignAlg(keys.PurposeIDToken, alg, "JWT", payload)
}

// atHash is OpenID Connect Core §3.1.3.6: the left half of the hash of the
// access token, with the hash of the id_token's algorithm (SHA-512 for Ed25519).
func atHash(alg, accessToken string) string {
	var h hash.Hash
	if alg == "EdDSA" {
		h = sha512.New()
	} else {
		h = sha256.New()
	}
	h.Write([]byte(accessToken))
	sum := h.Sum(nil)
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}
