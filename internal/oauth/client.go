package oauth

import (
	"encoding/base64"
	"encoding/json"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Grant types (RFC 6749 §4; token exchange, RFC 8693 §2.1; JWT bearer,
// RFC 7523 §2.1).
const (
	GrantClientCredentials = "client_credentials"
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantPassword          = "password"
	// GrantDeviceCode is the device authorization grant (RFC 8628 §3.4).
	GrantDeviceCode    = "urn:ietf:params:oauth:grant-type:device_code"
	GrantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	GrantJWTBearer     = "urn:ietf:params:oauth:grant-type:jwt-bearer"
)

// How a trusted issuer's sub names a user (store.TrustedIssuer.SubjectMapping):
// as the user's id, username or email; none maps no user, so its tokens
// can only be an actor token.
const (
	SubjectMappingUserID   = "user_id"
	SubjectMappingUsername = "username"
	SubjectMappingEmail    = "email"
	SubjectMappingNone     = "none"
)

// Client authentication methods (RFC 7591 §2, token_endpoint_auth_method;
// the JWT ones from RFC 7523 §2.2 and OpenID Connect Core §9, the
// certificate ones from RFC 8705 §2.1.1 and §2.2.1).
const (
	AuthMethodBasic         = "client_secret_basic"
	AuthMethodPost          = "client_secret_post"
	AuthMethodNone          = "none"
	AuthMethodPrivateKeyJWT = "private_key_jwt"
	AuthMethodSecretJWT     = "client_secret_jwt"
	AuthMethodTLS           = "tls_client_auth"
	AuthMethodSelfSignedTLS = "self_signed_tls_client_auth"
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
	// Metadata is what authd keeps of the rest of RFC 7591 §2 (keys,
	// certificates, token binding, descriptive URIs): read whole, never
	// looked up by.
	Metadata ClientMetadata
	// RegistrationTokenHash is the SHA-256 of the RFC 7592 registration
	// access token of a client that registered itself; nil otherwise.
	RegistrationTokenHash []byte
	// SecretSealed is the secret itself, sealed under a data key, for
	// client_secret_jwt (an HMAC key must be known to verify with it); nil
	// for every other client.
	SecretSealed []byte
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// ClientMetadata is the client metadata (RFC 7591 §2 and the registries it
// opened) beyond what Client holds in fields of its own. Its JSON names are
// the registered metadata names.
type ClientMetadata struct {
	// JWKS (by value) or JWKSURI (by reference), never both (RFC 7591 §2):
	// the client's public keys, for private_key_jwt and
	// self_signed_tls_client_auth.
	JWKS    json.RawMessage `json:"jwks,omitempty"`
	JWKSURI string          `json:"jwks_uri,omitempty"`
	// FederatedCredentials let a workload authenticate with a token its
	// platform issued (a Kubernetes service-account token, a SPIFFE JWT-SVID,
	// a CI OIDC token) instead of a key of its own.
	FederatedCredentials []FederatedCredential `json:"federated_credentials,omitempty"`
	// DPoPBoundAccessTokens: every access token must be DPoP-bound (RFC 9449 §5.2).
	DPoPBoundAccessTokens bool `json:"dpop_bound_access_tokens,omitempty"`
	// For tls_client_auth, exactly one of these (RFC 8705 §2.1.2).
	TLSClientAuthSubjectDN string `json:"tls_client_auth_subject_dn,omitempty"`
	TLSClientAuthSANDNS    string `json:"tls_client_auth_san_dns,omitempty"`
	TLSClientAuthSANURI    string `json:"tls_client_auth_san_uri,omitempty"`
	TLSClientAuthSANIP     string `json:"tls_client_auth_san_ip,omitempty"`
	TLSClientAuthSANEmail  string `json:"tls_client_auth_san_email,omitempty"`
	// TLSClientCertificateBoundAccessTokens: access tokens are bound to the
	// client's certificate (RFC 8705 §3.4).
	TLSClientCertificateBoundAccessTokens bool `json:"tls_client_certificate_bound_access_tokens,omitempty"`
	// Descriptive metadata, shown on the consent page or returned as registered.
	ClientURI       string   `json:"client_uri,omitempty"`
	LogoURI         string   `json:"logo_uri,omitempty"`
	PolicyURI       string   `json:"policy_uri,omitempty"`
	TOSURI          string   `json:"tos_uri,omitempty"`
	Contacts        []string `json:"contacts,omitempty"`
	SoftwareID      string   `json:"software_id,omitempty"`
	SoftwareVersion string   `json:"software_version,omitempty"`

	// Authorization requests (RFC 9126 §6): this client's requests must be
	// pushed (PAR) first.
	RequirePushedAuthorizationRequests bool `json:"require_pushed_authorization_requests,omitempty"`
	// RequestObjectSigningAlg (RFC 9101 §10.5, OIDC Registration §2): the
	// only alg this client's request objects may use; "" any allowed one.
	RequestObjectSigningAlg string `json:"request_object_signing_alg,omitempty"`

	// API resources (RFC 8707): the resource indicators this client may ask
	// tokens for; empty, any registered resource.
	AllowedResources []string `json:"allowed_resources,omitempty"`

	// Logout (OIDC Back-Channel Logout 1.0 §2.2, Front-Channel Logout 1.0 §2).
	BackchannelLogoutURI              string `json:"backchannel_logout_uri,omitempty"`
	BackchannelLogoutSessionRequired  bool   `json:"backchannel_logout_session_required,omitempty"`
	FrontchannelLogoutURI             string `json:"frontchannel_logout_uri,omitempty"`
	FrontchannelLogoutSessionRequired bool   `json:"frontchannel_logout_session_required,omitempty"`

	// Profiles: SecurityProfile is "default", "oauth2.1" or "fapi2" ("" the
	// server's default); RequirePKCE false lets a confidential client skip
	// PKCE (nil: required).
	SecurityProfile string `json:"security_profile,omitempty"`
	RequirePKCE     *bool  `json:"require_pkce,omitempty"`

	// IDTokenSignedResponseAlg (OpenID Connect Registration §2): the alg of
	// this client's id_tokens; "" the server's.
	IDTokenSignedResponseAlg string `json:"id_token_signed_response_alg,omitempty"`

	// AllowImpersonation lets a client of the token-exchange grant exchange
	// a subject token without an actor token (RFC 8693 §1.1
	// impersonation): the new token names the subject alone, so nothing
	// shows that the client acts for it.
	AllowImpersonation bool `json:"allow_impersonation,omitempty"`
}

// Confirmation is the RFC 7800 "cnf" of a sender-constrained token: the
// thumbprint of the DPoP key it is bound to (RFC 9449 §6.1, "jkt") or of the
// client certificate (RFC 8705 §3.1, "x5t#S256"). Zero for bearer tokens.
type Confirmation struct {
	JKT     string `json:"jkt,omitempty"`
	X5TS256 string `json:"x5t#S256,omitempty"`
}

// Bound reports whether the token is sender-constrained.
func (c Confirmation) Bound() bool { return c.JKT != "" || c.X5TS256 != "" }

// FederatedCredential names the workload tokens that authenticate a client:
// signed by Issuer (its keys from its OpenID Connect discovery document, or
// from JWKSURI), for Subject exactly, with Audience among its audiences
// (authd's issuer identifier when empty).
type FederatedCredential struct {
	Issuer   string `json:"issuer"`
	Subject  string `json:"subject"`
	Audience string `json:"audience,omitempty"`
	JWKSURI  string `json:"jwks_uri,omitempty"`
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

// AllowsCORSOrigin reports whether origin is in CORSOrigins, without building
// the list: explicit origins are compared first, so only a public client whose
// origin is derived pays for parsing its redirect URIs. origin must be a
// serialized origin as browsers send it (see IsOrigin); anything else is false.
func (c *Client) AllowsCORSOrigin(origin string) bool {
	if origin == "" {
		return false
	}
	if slices.Contains(c.AllowedCORSOrigins, origin) {
		return true
	}
	if !c.Public() {
		return false
	}
	for _, u := range c.RedirectURIs {
		if o, ok := WebOrigin(u); ok && o == origin {
			return true
		}
	}
	return false
}

// MaxOriginLength bounds origins authd registers and looks up; a host name is
// at most 253 characters (RFC 1035 §2.3.4), plus scheme and port.
const MaxOriginLength = 300

// WebOrigin returns the RFC 6454 §6.2 serialization of the origin of an http
// or https URL: scheme://host[:port], lower case, default port omitted, IPv6
// literals bracketed in their RFC 5952 form, as browsers send it in the Origin
// header. URLs with userinfo, hosts outside [A-Za-z0-9._-] (a browser sends the
// A-label of an internationalised name), an empty host or an invalid port have
// no origin authd can match.
func WebOrigin(raw string) (string, bool) {
	if len(raw) > 2000 {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil || u.Opaque != "" {
		return "", false
	}
	host := u.Hostname()
	if host == "" {
		return "", false
	}
	if strings.Contains(host, ":") {
		a, err := netip.ParseAddr(host)
		if err != nil || a.Zone() != "" || !a.Is6() {
			return "", false
		}
		host = "[" + a.String() + "]"
	} else if plainHost(host) {
		host = strings.ToLower(host)
	} else {
		return "", false
	}
	o := u.Scheme + "://" + host
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return "", false
		}
		if !(u.Scheme == "http" && n == 80) && !(u.Scheme == "https" && n == 443) {
			o += ":" + strconv.Itoa(n)
		}
	} else if strings.HasSuffix(u.Host, ":") {
		// "https://host:" is allowed by RFC 3986 but no browser sends it.
		return "", false
	}
	return o, true
}

// IsOrigin reports whether s is a serialized origin exactly as a browser
// sends it in the Origin header (RFC 6454 §7): what WebOrigin would return for
// it, so no path, query, fragment, userinfo, default port or upper case. The
// opaque origin "null" is not one: it names no one and no client may allow it.
func IsOrigin(s string) bool {
	if s == "" || len(s) > MaxOriginLength {
		return false
	}
	o, ok := WebOrigin(s)
	return ok && o == s
}

// plainHost accepts the host names and IPv4 literals browsers serialize
// unchanged: ASCII letters, digits, '-', '.' and '_'. Anything else is either
// percent-decoded or IDNA-mapped by the browser's URL parser first, so it could
// never equal the Origin header a browser sends.
func plainHost(h string) bool {
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// Public reports whether the client has no secret and authenticates with "none".
func (c *Client) Public() bool { return c.TokenEndpointAuthMethod == AuthMethodNone }

// UsesSecret reports whether the client authenticates with a secret authd
// generated (presented as is, or as the key of a client_secret_jwt
// assertion); clients that prove themselves with keys or certificates have
// none.
func (c *Client) UsesSecret() bool {
	switch c.TokenEndpointAuthMethod {
	case AuthMethodBasic, AuthMethodPost, AuthMethodSecretJWT:
		return true
	}
	return false
}

// AllowsGrant reports whether the client is registered for grant type g.
func (c *Client) AllowsGrant(g string) bool {
	for _, x := range c.GrantTypes {
		if x == g {
			return true
		}
	}
	return false
}

// HasRedirectURI reports whether uri is registered. Comparison is by exact
// string (RFC 9700 §4.1.3: no pattern matching), with one exception that RFC
// 8252 §7.3 requires: a native app's loopback redirect URI (http with the IP
// literal 127.0.0.1 or [::1]) matches a registered one whatever its port,
// because the operating system picks the port when the app starts listening.
// Scheme, host, path and query still match exactly. "localhost" gets no such
// leeway (RFC 8252 §8.3: it may resolve off the loopback interface).
func (c *Client) HasRedirectURI(uri string) bool {
	if slices.Contains(c.RedirectURIs, uri) {
		return true
	}
	host, rest, ok := splitLoopback(uri)
	if !ok {
		return false
	}
	for _, x := range c.RedirectURIs {
		if h, r, ok := splitLoopback(x); ok && h == host && r == rest {
			return true
		}
	}
	return false
}

// splitLoopback splits an RFC 8252 §7.3 loopback redirect URI into its
// "http://127.0.0.1" or "http://[::1]" prefix and what follows the port (path
// and query, "" or starting with / or ?). It refuses anything else, including
// userinfo ("http://127.0.0.1:80@evil.example"), other hosts that merely start
// with the literal ("http://127.0.0.1.evil.example"), ports outside 1-65535 or
// with leading zeros, and fragments (RFC 6749 §3.1.2).
func splitLoopback(uri string) (host, rest string, ok bool) {
	switch {
	case strings.HasPrefix(uri, loopbackV4):
		host = loopbackV4
	case strings.HasPrefix(uri, loopbackV6):
		host = loopbackV6
	default:
		return "", "", false
	}
	rest = uri[len(host):]
	if strings.HasPrefix(rest, ":") {
		i := 1
		for i < len(rest) && i <= 6 && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		port := rest[1:i]
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || port[0] == '0' {
			return "", "", false
		}
		rest = rest[i:]
	}
	if rest != "" && rest[0] != '/' && rest[0] != '?' {
		return "", "", false
	}
	if strings.ContainsAny(rest, "#\\") {
		return "", "", false
	}
	return host, rest, true
}

const (
	loopbackV4 = "http://127.0.0.1"
	loopbackV6 = "http://[::1]"
)

// HasPostLogoutRedirectURI reports whether uri is registered for post-logout
// redirection, by exact string comparison (OpenID Connect RP-Initiated Logout
// 1.0 §3: the value must exactly match a registered one). The RFC 8252 §7.3
// any-port rule of HasRedirectURI does not apply: it exists because the
// authorization response must reach the listener a native app opened for it,
// and nothing is delivered to a post-logout URI that such an app needs, so an
// exact match costs native apps nothing and keeps logout from being a way to
// send the browser to whatever else listens on a loopback port.
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

// MaxClientIDURLLength bounds client ids that are Client ID Metadata
// Document URLs. Longer ones are refused before anything is fetched.
const MaxClientIDURLLength = 512

// IsClientIDURL reports whether id has the form of a Client ID Metadata
// Document URL (draft-ietf-oauth-client-id-metadata-document-01 §3): https, a
// host, a path component without "." or ".." segments, no fragment, no user
// name or password; a query is allowed (the draft says SHOULD NOT, not MUST
// NOT), and only printable ASCII, since the id is compared byte for byte
// with the document's client_id and becomes a cache key. Whether the URL may
// be fetched is the outbound fetcher's to say.
func IsClientIDURL(id string) bool {
	if len(id) > MaxClientIDURLLength || !strings.HasPrefix(id, "https://") {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' || id[i] == '#' {
			return false
		}
	}
	u, err := url.Parse(id)
	if err != nil || u.User != nil || u.Host == "" || u.Hostname() == "" || u.Opaque != "" {
		return false
	}
	if u.Path == "" || u.Path == "/" {
		return false
	}
	// u.Path is unescaped, so %2e%2e counts as "..".
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// AcceptableClientID reports whether id may name a client in a request: an
// id authd issued (ValidClientID) or a Client ID Metadata Document URL.
func AcceptableClientID(id string) bool { return ValidClientID(id) || IsClientIDURL(id) }

// RandomID is an identifier authd assigns (a user's subject, a client_id,
// a resource or trusted issuer id): n bytes from fill, base64url, whose
// first character is a letter or digit, never "-" or "_" (a command line
// would read an id starting with "-" as a flag). 8n-1 random bits.
func RandomID(fill func([]byte), n int) string {
	b := make([]byte, n)
	fill(b)
	b[0] &= 0x7f
	return base64.RawURLEncoding.EncodeToString(b)
}
