package client

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/secevent"
	"github.com/authd/authd/internal/store"
)

// Metadata is RFC 7591 §2 client metadata plus authd's own members, as
// registration and updates take it. Unknown members are ignored, as RFC 7591
// §2 requires.
type Metadata struct {
	ClientID                string   `json:"client_id,omitempty"`
	ClientName              string   `json:"client_name,omitempty"`
	GrantTypes              []string `json:"grant_types,omitempty"`
	RedirectURIs            []string `json:"redirect_uris,omitempty"`
	PostLogoutRedirectURIs  []string `json:"post_logout_redirect_uris,omitempty"` // OpenID Connect RP-Initiated Logout 1.0 §3.1
	Scope                   string   `json:"scope,omitempty"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method,omitempty"`
	AccessTokenFormat       string   `json:"access_token_format,omitempty"`
	AccessTokenTTL          int64    `json:"access_token_ttl,omitempty"`
	FirstParty              bool     `json:"first_party,omitempty"`
	// AllowedCORSOrigins are the web origins whose scripts may call the token,
	// revocation, introspection and userinfo endpoints for this client. A
	// public client's http(s) redirect URIs add their origins without being
	// listed here.
	AllowedCORSOrigins []string `json:"allowed_cors_origins,omitempty"`
	// ResponseTypes (RFC 7591 §2): authd answers "code" only, and only for
	// clients of the authorization_code grant (§2.1).
	ResponseTypes []string `json:"response_types,omitempty"`
	// The rest of RFC 7591 §2 and its registry: keys, certificates, token
	// binding, descriptive URIs.
	oauth.ClientMetadata
}

// MetadataOf is the Metadata of a registered client.
func MetadataOf(c *oauth.Client) Metadata {
	return Metadata{
		ClientID:                c.ID,
		ClientName:              c.Name,
		GrantTypes:              c.GrantTypes,
		RedirectURIs:            c.RedirectURIs,
		PostLogoutRedirectURIs:  c.PostLogoutRedirectURIs,
		Scope:                   oauth.JoinScope(c.Scopes),
		TokenEndpointAuthMethod: c.TokenEndpointAuthMethod,
		AccessTokenFormat:       c.AccessTokenFormat,
		AccessTokenTTL:          int64(c.AccessTokenTTL / time.Second),
		FirstParty:              c.FirstParty,
		AllowedCORSOrigins:      c.AllowedCORSOrigins,
		ResponseTypes:           responseTypes(c),
		ClientMetadata:          c.Metadata,
	}
}

// responseTypes is what a client registered for may ask of the
// authorization endpoint (RFC 7591 §2.1: consistent with grant_types).
func responseTypes(c *oauth.Client) []string {
	if c.AllowsGrant(oauth.GrantAuthorizationCode) {
		return []string{"code"}
	}
	return nil
}

// InvalidMetadata is metadata that cannot be registered: RFC 7591 §3.2.2
// invalid_client_metadata, or invalid_redirect_uri when Field is
// redirect_uris. Reason is fit to show the caller.
type InvalidMetadata struct {
	Field  string
	Reason string
}

func (e *InvalidMetadata) Error() string { return "client: invalid " + e.Field + ": " + e.Reason }

func invalid(field, reason string) error { return &InvalidMetadata{Field: field, Reason: reason} }

// ErrNoSecret: the client authenticates without a secret (public, or with
// keys or a certificate) and has none to rotate.
var ErrNoSecret = errors.New("client: the client authenticates without a secret")

// Store is the slice of the store the service uses (store.Clients).
type Store interface {
	CreateClient(ctx context.Context, c *oauth.Client) error
	Client(ctx context.Context, id string) (*oauth.Client, error)
	ListClients(ctx context.Context) ([]*oauth.Client, error)
	DeleteClient(ctx context.Context, id string) error
	SetClientSecret(ctx context.Context, id string, secretHash, secretSealed []byte, now time.Time) error
	UpdateClient(ctx context.Context, c *oauth.Client) error
	CreateRegistrationToken(ctx context.Context, t *store.RegistrationToken) error
	UseRegistrationToken(ctx context.Context, hash []byte, now time.Time) error
}

// Caller is who asked for a change, for the audit trail: the credential used
// ("admin-token", and later a registration access token) and their address.
type Caller struct {
	Credential string
	IP         string
}

// Options configure the Service.
type Options struct {
	// Grants are the grant types clients may register for: those the token
	// service can serve.
	Grants []string
	// MaxTokenTTL bounds access_token_ttl.
	MaxTokenTTL time.Duration
	// Changed runs after every change to a client, to drop it from caches.
	Changed func(ctx context.Context, id string)
	Events  secevent.Emitter
	Now     func() time.Time
	Random  func([]byte)
	// IDTokenAlgs are the algorithms the server signs id_tokens with, which
	// a client may name as its id_token_signed_response_alg.
	IDTokenAlgs []string
	// SecurityProfile is the profile of clients that name none
	// (AUTHD_SECURITY_PROFILE; "" is oauth.ProfileDefault).
	SecurityProfile string
	// AllowLoopbackFetch lets jwks_uri be http on loopback
	// (AUTHD_OUTBOUND_ALLOW_LOOPBACK: tests, single-host setups).
	AllowLoopbackFetch bool
	// Seal protects the secret of a client_secret_jwt client, which authd
	// must keep to verify its assertions (an HMAC key). Without it that
	// method cannot be registered.
	// The client id is bound to the result, so a sealed secret copied to
	// another client does not open.
	Seal func(clientID string, secret []byte) ([]byte, error)
}

// Service registers, updates, rotates and deletes clients: each request is
// validated once, here, and recorded in the audit trail with its caller.
type Service struct {
	st   Store
	opts Options
}

// New returns a Service over st.
func New(st Store, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Random == nil {
		opts.Random = func(b []byte) { _, _ = rand.Read(b) }
	}
	if opts.Events == nil {
		opts.Events = secevent.Discard{}
	}
	if opts.Changed == nil {
		opts.Changed = func(context.Context, string) {}
	}
	return &Service{st: st, opts: opts}
}

func (s *Service) emit(typ, id string, by Caller) {
	s.opts.Events.Emit(secevent.Event{Type: typ, ClientID: id, IP: by.IP, Detail: map[string]string{"by": by.Credential}})
}

// Create registers m and returns the client and, for a confidential one,
// its secret (256 random bits, shown this once; only its SHA-256 is kept).
// Errors: *InvalidMetadata, an error matching store.ErrConflict (the id is
// taken).
func (s *Service) Create(ctx context.Context, m Metadata, by Caller) (*oauth.Client, string, error) {
	return s.create(ctx, m, by, nil, secevent.AdminClientCreated)
}

func (s *Service) create(ctx context.Context, m Metadata, by Caller, registrationTokenHash []byte, event string) (*oauth.Client, string, error) {
	c, err := s.validate(&m)
	if err != nil {
		return nil, "", err
	}
	c.RegistrationTokenHash = registrationTokenHash
	now := s.opts.Now().UTC()
	c.CreatedAt, c.UpdatedAt = now, now
	var secret string
	if c.UsesSecret() {
		if secret, c.SecretHash, c.SecretSealed, err = s.newSecret(c); err != nil {
			return nil, "", err
		}
	}
	if err := s.st.CreateClient(ctx, c); err != nil {
		return nil, "", err
	}
	s.opts.Changed(ctx, c.ID)
	s.emit(event, c.ID, by)
	return c, secret, nil
}

// Update is RFC 7592 §2.2: m is the client's whole metadata and replaces what
// was registered (omitted members take their defaults). The secret is kept,
// and a client cannot switch between public and confidential.
// Errors: *InvalidMetadata, store.ErrNotFound.
func (s *Service) Update(ctx context.Context, id string, m Metadata, by Caller) (*oauth.Client, error) {
	return s.update(ctx, id, m, by, secevent.AdminClientUpdated)
}

func (s *Service) update(ctx context.Context, id string, m Metadata, by Caller, event string) (*oauth.Client, error) {
	if m.ClientID != "" && m.ClientID != id {
		return nil, invalid("client_id", "client_id must match the client being updated")
	}
	m.ClientID = id
	cur, err := s.st.Client(ctx, id)
	if err != nil {
		return nil, err
	}
	c, err := s.validate(&m)
	if err != nil {
		return nil, err
	}
	// Whether a client has a secret is decided at registration.
	if c.Public() != cur.Public() {
		return nil, invalid("token_endpoint_auth_method", "a client cannot switch between public (none) and confidential; register a new client")
	}
	c.SecretHash, c.SecretSealed, c.CreatedAt, c.UpdatedAt = cur.SecretHash, cur.SecretSealed, cur.CreatedAt, s.opts.Now().UTC()
	c.RegistrationTokenHash = cur.RegistrationTokenHash
	// A client for client_secret_jwt needs its secret sealed, which a secret
	// issued for another method never was: rotate it after switching.
	if c.TokenEndpointAuthMethod == oauth.AuthMethodSecretJWT && cur.TokenEndpointAuthMethod != oauth.AuthMethodSecretJWT {
		c.SecretHash, c.SecretSealed = nil, nil
	}
	if err := s.st.UpdateClient(ctx, c); err != nil {
		return nil, err
	}
	// A client that moved to keys or a certificate keeps no secret: one left
	// behind would be a credential nobody uses and someone may still hold.
	// One that moved to client_secret_jwt has none until it is rotated.
	if (!c.UsesSecret() || c.SecretHash == nil) && cur.SecretHash != nil {
		if err := s.st.SetClientSecret(ctx, id, nil, nil, c.UpdatedAt); err != nil {
			return nil, err
		}
		c.SecretHash, c.SecretSealed = nil, nil
	}
	s.opts.Changed(ctx, id)
	s.emit(event, id, by)
	return c, nil
}

// RotateSecret gives a confidential client a new secret; the old one stops
// working at once. Errors: store.ErrNotFound, ErrNoSecret.
func (s *Service) RotateSecret(ctx context.Context, id string, by Caller) (string, error) {
	c, err := s.st.Client(ctx, id)
	if err != nil {
		return "", err
	}
	if !c.UsesSecret() {
		return "", ErrNoSecret
	}
	secret, hash, sealed, err := s.newSecret(c)
	if err != nil {
		return "", err
	}
	if err := s.st.SetClientSecret(ctx, id, hash, sealed, s.opts.Now().UTC()); err != nil {
		return "", err
	}
	s.opts.Changed(ctx, id)
	s.emit(secevent.AdminClientSecretRotated, id, by) // never the secret
	return secret, nil
}

// Delete removes a client; its tokens die with it. Errors: store.ErrNotFound.
func (s *Service) Delete(ctx context.Context, id string, by Caller) error {
	return s.delete(ctx, id, by, secevent.AdminClientDeleted)
}

func (s *Service) delete(ctx context.Context, id string, by Caller, event string) error {
	if err := s.st.DeleteClient(ctx, id); err != nil {
		return err
	}
	s.opts.Changed(ctx, id)
	s.emit(event, id, by)
	return nil
}

// Get returns a client. Errors: store.ErrNotFound.
func (s *Service) Get(ctx context.Context, id string) (*oauth.Client, error) {
	return s.st.Client(ctx, id)
}

// List returns every client ordered by id.
func (s *Service) List(ctx context.Context) ([]*oauth.Client, error) { return s.st.ListClients(ctx) }

func (s *Service) validate(m *Metadata) (*oauth.Client, error) {
	c := &oauth.Client{
		ID:                      m.ClientID,
		Name:                    m.ClientName,
		RedirectURIs:            m.RedirectURIs,
		PostLogoutRedirectURIs:  m.PostLogoutRedirectURIs,
		TokenEndpointAuthMethod: m.TokenEndpointAuthMethod,
		AccessTokenFormat:       m.AccessTokenFormat,
		FirstParty:              m.FirstParty,
	}
	if c.ID == "" {
		c.ID = s.newID()
	} else if !oauth.ValidClientID(c.ID) {
		return nil, invalid("client_id", "client_id must be 1 to 128 characters of A-Z a-z 0-9 . _ ~ -")
	}
	if len(c.Name) > 200 {
		return nil, invalid("client_name", "client_name must be at most 200 characters")
	}
	if c.TokenEndpointAuthMethod == "" {
		c.TokenEndpointAuthMethod = oauth.AuthMethodBasic
	}
	switch c.TokenEndpointAuthMethod {
	case oauth.AuthMethodBasic, oauth.AuthMethodPost, oauth.AuthMethodNone,
		oauth.AuthMethodPrivateKeyJWT, oauth.AuthMethodTLS, oauth.AuthMethodSelfSignedTLS:
	case oauth.AuthMethodSecretJWT:
		if s.opts.Seal == nil {
			return nil, invalid("token_endpoint_auth_method", "client_secret_jwt is not available on this server")
		}
	default:
		return nil, invalid("token_endpoint_auth_method", "token_endpoint_auth_method must be one of "+strings.Join(AuthMethods(), ", "))
	}
	meta, err := s.validKeyMetadata(c.TokenEndpointAuthMethod, m.ClientMetadata)
	if err != nil {
		return nil, err
	}
	if meta, err = s.validLogoutMetadata(meta, c.RedirectURIs); err != nil {
		return nil, err
	}
	c.Metadata = meta
	c.GrantTypes = slices.Compact(slices.Sorted(slices.Values(m.GrantTypes)))
	if len(c.GrantTypes) == 0 {
		// RFC 7591 §2 defaults to authorization_code; a client with no redirect
		// URI cannot use it, so such a client gets client_credentials.
		if len(c.RedirectURIs) == 0 {
			c.GrantTypes = []string{oauth.GrantClientCredentials}
		} else {
			c.GrantTypes = []string{oauth.GrantAuthorizationCode}
		}
	}
	for _, g := range c.GrantTypes {
		if !slices.Contains(s.opts.Grants, g) {
			return nil, invalid("grant_types", "grant type "+quote(g)+" is not supported; supported: "+strings.Join(s.opts.Grants, ", "))
		}
	}
	if c.AllowsGrant(oauth.GrantClientCredentials) && c.Public() {
		return nil, invalid("grant_types", "client_credentials needs a confidential client (token_endpoint_auth_method other than none)")
	}
	// RFC 9700 §2.4: the password grant must not be used at all; authd keeps
	// it for legacy first-party clients, and those at least prove who they are
	// with a secret. A public one would let anyone holding its client_id try
	// passwords at the token endpoint as that application.
	if c.AllowsGrant(oauth.GrantPassword) && c.Public() {
		return nil, invalid("grant_types", "password needs a confidential client (token_endpoint_auth_method other than none)")
	}
	if err := validExchangeMetadata(c); err != nil {
		return nil, err
	}
	// RFC 7591 §2.1: response_types and grant_types must agree.
	for _, rt := range m.ResponseTypes {
		if rt != "code" {
			return nil, invalid("response_types", "response type "+quote(rt)+" is not supported; authd answers code only")
		}
		if !c.AllowsGrant(oauth.GrantAuthorizationCode) {
			return nil, invalid("response_types", "response type code needs grant type authorization_code")
		}
	}
	if c.AllowsGrant(oauth.GrantAuthorizationCode) && len(c.RedirectURIs) == 0 {
		return nil, invalid("redirect_uris", "authorization_code needs at least one redirect URI")
	}
	for _, u := range c.RedirectURIs {
		if err := validRedirectURI(u); err != "" {
			return nil, invalid("redirect_uris", "redirect URI "+quote(u)+" "+err)
		}
	}
	// The browser is sent there just as to a redirect URI, so the same rules hold.
	for _, u := range c.PostLogoutRedirectURIs {
		if err := validRedirectURI(u); err != "" {
			return nil, invalid("post_logout_redirect_uris", "post-logout redirect URI "+quote(u)+" "+err)
		}
	}
	origins, err := validCORSOrigins(m.AllowedCORSOrigins)
	if err != nil {
		return nil, err
	}
	c.AllowedCORSOrigins = origins
	for _, sc := range oauth.ParseScope(m.Scope) {
		if !oauth.ValidScopeToken(sc) {
			return nil, invalid("scope", "scope must be space-separated tokens of printable ASCII without quotes or backslashes")
		}
		c.Scopes = append(c.Scopes, sc)
	}
	switch c.AccessTokenFormat {
	case "":
		c.AccessTokenFormat = oauth.FormatJWT
	case oauth.FormatJWT, oauth.FormatOpaque:
	default:
		return nil, invalid("access_token_format", "access_token_format must be jwt or opaque")
	}
	if m.AccessTokenTTL < 0 || time.Duration(m.AccessTokenTTL)*time.Second > s.opts.MaxTokenTTL {
		return nil, invalid("access_token_ttl", "access_token_ttl must be from 1 to "+itoa(int64(s.opts.MaxTokenTTL/time.Second))+" seconds (0: the server default)")
	}
	c.AccessTokenTTL = time.Duration(m.AccessTokenTTL) * time.Second
	if err := s.validProfile(c); err != nil {
		return nil, err
	}
	return c, nil
}

// AuthMethods are the token_endpoint_auth_method values clients may register.
func AuthMethods() []string {
	return []string{oauth.AuthMethodBasic, oauth.AuthMethodPost, oauth.AuthMethodNone, oauth.AuthMethodPrivateKeyJWT,
		oauth.AuthMethodSecretJWT, oauth.AuthMethodTLS, oauth.AuthMethodSelfSignedTLS}
}

// validRedirectURI applies RFC 6749 §3.1.2 and RFC 8252 §7: absolute, no
// fragment; https, or http only on loopback, or a private-use scheme for native
// apps. It returns what is wrong, or "".
func validRedirectURI(raw string) string {
	if len(raw) > 2000 {
		return "is too long"
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return "must be an absolute URI"
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return "must not contain a fragment"
	}
	switch u.Scheme {
	case "https":
		if u.Host == "" {
			return "must have a host"
		}
	case "http":
		h := u.Hostname()
		if h != "localhost" && h != "127.0.0.1" && h != "::1" {
			return "may use http only for loopback (localhost, 127.0.0.1, ::1); use https"
		}
	case "javascript", "data", "vbscript", "file":
		return "uses a forbidden scheme"
	default:
		// Private-use schemes (RFC 8252 §7.1) must look like reverse DNS.
		if !strings.Contains(u.Scheme, ".") {
			return "must use https, loopback http, or a reverse-DNS private-use scheme"
		}
	}
	return ""
}

// maxCORSOrigins bounds allowed_cors_origins; a client with more web front
// ends than this is several clients.
const maxCORSOrigins = 50

// validCORSOrigins checks allowed_cors_origins: each one a serialized origin
// exactly as browsers send it in the Origin header (RFC 6454 §6.2, §7), since
// that header is compared byte for byte; https, or http only on loopback (as
// for redirect URIs). No wildcard and no "null": the endpoints answer with the
// caller's origin, never "*", and "null" is what sandboxed frames, file: pages
// and cross-origin redirects all send, so allowing it allows anyone. It returns
// the origins sorted without duplicates.
func validCORSOrigins(in []string) ([]string, error) {
	if len(in) > maxCORSOrigins {
		return nil, invalid("allowed_cors_origins", "allowed_cors_origins may list at most "+itoa(maxCORSOrigins)+" origins")
	}
	for _, o := range in {
		bad := func(why string) error {
			return invalid("allowed_cors_origins", "origin "+quote(o)+" "+why)
		}
		switch {
		case o == "*" || strings.Contains(o, "*"):
			return nil, bad("is a wildcard; list each origin")
		case o == "null":
			return nil, bad("is the opaque origin, which any sandboxed page can send")
		case len(o) > oauth.MaxOriginLength:
			return nil, bad("is too long")
		}
		canon, ok := oauth.WebOrigin(o)
		if !ok {
			return nil, bad("must be scheme://host[:port] with scheme https (or http on loopback) and no userinfo")
		}
		if u, err := url.Parse(o); err == nil && (u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(o, "?#")) {
			return nil, bad("must be an origin only (scheme://host[:port]), without path, query or fragment")
		}
		if canon != o {
			return nil, bad("must be written as browsers send it: " + quote(canon))
		}
		if strings.HasPrefix(o, "http://") {
			if h := strings.TrimPrefix(o, "http://"); !isLoopbackHost(h) {
				return nil, bad("may use http only for loopback (localhost, 127.0.0.1, [::1]); use https")
			}
		}
	}
	if len(in) == 0 {
		return nil, nil
	}
	return slices.Compact(slices.Sorted(slices.Values(in))), nil
}

// isLoopbackHost reports whether host[:port] names the loopback interface.
func isLoopbackHost(hostport string) bool {
	h := hostport
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 && !strings.HasSuffix(hostport, "]") {
		h = hostport[:i]
	}
	return h == "localhost" || h == "127.0.0.1" || h == "[::1]"
}

func quote(s string) string {
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return `"` + strings.Map(func(r rune) rune {
		if r < 0x20 || r == '"' || r == '\\' {
			return '?'
		}
		return r
	}, s) + `"`
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// newID is a client_id: 127 random bits, base64url, whose first character
// is a letter or digit, never "-" (a command line would read it as a flag).
func (s *Service) newID() string { return oauth.RandomID(s.opts.Random, 16) }

func (s *Service) randomString(n int) string {
	b := make([]byte, n)
	s.opts.Random(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// newSecret returns a 256-bit random secret and its SHA-256: high entropy makes
// a slow KDF pointless (ARCHITECTURE.md, request flow step 2).
// newSecret makes a secret for c: 256 random bits, of which authd keeps the
// SHA-256, and for client_secret_jwt the secret sealed as well.
func (s *Service) newSecret(c *oauth.Client) (secret string, hash, sealed []byte, err error) {
	secret = s.randomString(32)
	h := sha256.Sum256([]byte(secret))
	if c.TokenEndpointAuthMethod == oauth.AuthMethodSecretJWT {
		if s.opts.Seal == nil {
			return "", nil, nil, invalid("token_endpoint_auth_method", "client_secret_jwt is not available on this server")
		}
		if sealed, err = s.opts.Seal(c.ID, []byte(secret)); err != nil {
			return "", nil, nil, err
		}
	}
	return secret, h[:], sealed, nil
}
