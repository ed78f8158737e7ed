package oauth

import (
	"net/url"
	"slices"
	"strings"
	"time"
)

// Grant types (RFC 6749 §4, RFC 8693 names are not supported).
const (
	GrantClientCredentials = "client_credentials"
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantPassword          = "password"
)

// Client authentication methods (RFC 7591 §2, token_endpoint_auth_method).
const (
	AuthMethodBasic = "client_secret_basic"
	AuthMethodPost  = "client_secret_post"
	AuthMethodNone  = "none"
)

// Access-token formats a client may ask for.
const (
	FormatJWT    = "jwt"
	FormatOpaque = "opaque"
)

// Client is a registered OAuth client.
//
// SecretHash is the SHA-256 of a secret authd generated (256 bits of entropy), so a
// constant-time comparison of hashes is enough and no slow KDF is needed. It is nil
// for public clients (auth method "none").
type Client struct {
	ID                      string
	SecretHash              []byte
	Name                    string
	GrantTypes              []string
	RedirectURIs            []string
	PostLogoutRedirectURIs  []string // OpenID Connect RP-Initiated Logout 1.0 §3.1
	Scopes                  []string // allowed scopes; also the default when none is requested
	TokenEndpointAuthMethod string
	AccessTokenFormat       string        // FormatJWT or FormatOpaque
	AccessTokenTTL          time.Duration // zero: the server default
	FirstParty              bool          // consent is skipped for first-party clients
	// AllowedCORSOrigins are the web origins (scheme://host[:port]) whose
	// scripts may call the token, revocation, userinfo and introspection
	// endpoints for this client. CORSOrigins adds those derived from a public
	// client's redirect URIs.
	AllowedCORSOrigins []string
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// CORSOrigins returns the origins allowed to call authd's endpoints from a
// browser on this client's behalf: AllowedCORSOrigins, and for a public client
// (a single-page app) the origins of its http(s) redirect URIs. Sorted, no
// duplicates.
func (c *Client) CORSOrigins() []string {
	out := append([]string(nil), c.AllowedCORSOrigins...)
	if c.Public() {
		for _, u := range c.RedirectURIs {
			if o, ok := WebOrigin(u); ok {
				out = append(out, o)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// WebOrigin returns the RFC 6454 origin (scheme://host[:port], lower case,
// default port omitted) of an http or https URL.
func WebOrigin(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "", false
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	o := strings.ToLower(u.Scheme) + "://" + host
	if port != "" {
		o += ":" + port
	}
	return o, true
}

// Public reports whether the client has no secret and authenticates with "none".
func (c *Client) Public() bool { return c.TokenEndpointAuthMethod == AuthMethodNone }

// AllowsGrant reports whether the client is registered for grant type g.
func (c *Client) AllowsGrant(g string) bool {
	for _, x := range c.GrantTypes {
		if x == g {
			return true
		}
	}
	return false
}

// HasRedirectURI reports whether uri is registered, by exact string comparison
// (RFC 9700 §4.1.3: no pattern matching).
func (c *Client) HasRedirectURI(uri string) bool {
	for _, x := range c.RedirectURIs {
		if x == uri {
			return true
		}
	}
	return false
}

// HasPostLogoutRedirectURI reports whether uri is registered for post-logout
// redirection, by exact string comparison (OpenID Connect RP-Initiated Logout
// 1.0 §3: the value must exactly match a registered one).
func (c *Client) HasPostLogoutRedirectURI(uri string) bool {
	for _, x := range c.PostLogoutRedirectURIs {
		if x == uri {
			return true
		}
	}
	return false
}

// MaxClientIDLength bounds client ids authd registers and accepts.
const MaxClientIDLength = 128

// ValidClientID reports whether id is a client id authd could have issued: 1
// to 128 characters of A-Z a-z 0-9 . _ ~ - (unreserved URI characters). The
// token endpoint refuses anything else before any lookup, so an unauthenticated
// caller cannot make arbitrary strings into cache keys and store queries.
func ValidClientID(id string) bool {
	if id == "" || len(id) > MaxClientIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !unreserved(id[i]) {
			return false
		}
	}
	return true
}
