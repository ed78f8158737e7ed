package admin

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/secevent"
)

// clientMetadata is RFC 7591 §2 client metadata plus authd's own members.
// Unknown members are ignored, as RFC 7591 §2 requires.
type clientMetadata struct {
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
}

// clientResponse is RFC 7591 §3.2.1: the metadata, the id, and the secret only
// when it was just generated.
type clientResponse struct {
	clientMetadata
	ClientSecret          string `json:"client_secret,omitempty"`
	ClientIDIssuedAt      int64  `json:"client_id_issued_at"`
	ClientSecretExpiresAt *int64 `json:"client_secret_expires_at,omitempty"`
	UpdatedAt             int64  `json:"updated_at"`
}

func (s *Server) validate(m *clientMetadata) (*oauth.Client, error) {
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
		c.ID = s.randomString(16)
	} else if !oauth.ValidClientID(c.ID) {
		return nil, badRequest("client_id", "client_id must be 1 to 128 characters of A-Z a-z 0-9 . _ ~ -")
	}
	if len(c.Name) > 200 {
		return nil, badRequest("client_name", "client_name must be at most 200 characters")
	}
	if c.TokenEndpointAuthMethod == "" {
		c.TokenEndpointAuthMethod = oauth.AuthMethodBasic
	}
	switch c.TokenEndpointAuthMethod {
	case oauth.AuthMethodBasic, oauth.AuthMethodPost, oauth.AuthMethodNone:
	default:
		return nil, badRequest("token_endpoint_auth_method", "token_endpoint_auth_method must be client_secret_basic, client_secret_post or none")
	}
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
			return nil, badRequest("grant_types", "grant type "+quote(g)+" is not supported; supported: "+strings.Join(s.opts.Grants, ", "))
		}
	}
	if c.AllowsGrant(oauth.GrantClientCredentials) && c.Public() {
		return nil, badRequest("grant_types", "client_credentials needs a confidential client (token_endpoint_auth_method other than none)")
	}
	// RFC 9700 §2.4: the password grant must not be used at all; authd keeps
	// it for legacy first-party clients, and those at least prove who they are
	// with a secret. A public one would let anyone holding its client_id try
	// passwords at the token endpoint as that application.
	if c.AllowsGrant(oauth.GrantPassword) && c.Public() {
		return nil, badRequest("grant_types", "password needs a confidential client (token_endpoint_auth_method other than none)")
	}
	if c.AllowsGrant(oauth.GrantAuthorizationCode) && len(c.RedirectURIs) == 0 {
		return nil, badRequest("redirect_uris", "authorization_code needs at least one redirect URI")
	}
	for _, u := range c.RedirectURIs {
		if err := validRedirectURI(u); err != "" {
			return nil, badRequest("redirect_uris", "redirect URI "+quote(u)+" "+err)
		}
	}
	// The browser is sent there just as to a redirect URI, so the same rules hold.
	for _, u := range c.PostLogoutRedirectURIs {
		if err := validRedirectURI(u); err != "" {
			return nil, badRequest("post_logout_redirect_uris", "post-logout redirect URI "+quote(u)+" "+err)
		}
	}
	origins, err := validCORSOrigins(m.AllowedCORSOrigins)
	if err != nil {
		return nil, err
	}
	c.AllowedCORSOrigins = origins
	for _, sc := range oauth.ParseScope(m.Scope) {
		if !oauth.ValidScopeToken(sc) {
			return nil, badRequest("scope", "scope must be space-separated tokens of printable ASCII without quotes or backslashes")
		}
		c.Scopes = append(c.Scopes, sc)
	}
	switch c.AccessTokenFormat {
	case "":
		c.AccessTokenFormat = oauth.FormatJWT
	case oauth.FormatJWT, oauth.FormatOpaque:
	default:
		return nil, badRequest("access_token_format", "access_token_format must be jwt or opaque")
	}
	if m.AccessTokenTTL < 0 || time.Duration(m.AccessTokenTTL)*time.Second > s.opts.MaxTokenTTL {
		return nil, badRequest("access_token_ttl", "access_token_ttl must be from 1 to "+itoa(int64(s.opts.MaxTokenTTL/time.Second))+" seconds (0: the server default)")
	}
	c.AccessTokenTTL = time.Duration(m.AccessTokenTTL) * time.Second
	return c, nil
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
		return nil, badRequest("allowed_cors_origins", "allowed_cors_origins may list at most "+itoa(maxCORSOrigins)+" origins")
	}
	for _, o := range in {
		bad := func(why string) error {
			return badRequest("allowed_cors_origins", "origin "+quote(o)+" "+why)
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

func (s *Server) randomBytes(n int) []byte {
	b := make([]byte, n)
	if s.opts.Random != nil {
		s.opts.Random(b)
	} else {
		_, _ = rand.Read(b)
	}
	return b
}

func (s *Server) randomString(n int) string {
	return base64.RawURLEncoding.EncodeToString(s.randomBytes(n))
}

// newSecret returns a 256-bit random secret and its SHA-256: high entropy makes
// a slow KDF pointless (ARCHITECTURE.md, request flow step 2).
func (s *Server) newSecret() (string, []byte) {
	secret := s.randomString(32)
	h := sha256.Sum256([]byte(secret))
	return secret, h[:]
}

func toResponse(c *oauth.Client) *clientResponse {
	return &clientResponse{
		clientMetadata: clientMetadata{
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
		},
		ClientIDIssuedAt: c.CreatedAt.Unix(),
		UpdatedAt:        c.UpdatedAt.Unix(),
	}
}

func (s *Server) createClient(w http.ResponseWriter, r *http.Request) {
	var m clientMetadata
	if err := decode(r, &m); err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	c, err := s.validate(&m)
	if err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	now := s.opts.Now().UTC()
	c.CreatedAt, c.UpdatedAt = now, now
	var secret string
	if !c.Public() {
		secret, c.SecretHash = s.newSecret()
	}
	if err := s.clients.CreateClient(r.Context(), c); err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	s.opts.OnClientChange(r.Context(), c.ID)
	s.audit(r, secevent.Event{Type: secevent.AdminClientCreated, ClientID: c.ID})
	resp := toResponse(c)
	resp.ClientSecret = secret
	if secret != "" {
		never := int64(0)
		resp.ClientSecretExpiresAt = &never
	}
	w.Header().Set("Location", "/admin/clients/"+url.PathEscape(c.ID))
	writeJSON(w, http.StatusCreated, resp)
}

// updateClient is RFC 7592 §2.2: the body is the client's whole metadata,
// which replaces what was registered (omitted members take their defaults).
// The secret is kept; rotate it with POST …/secret.
func (s *Server) updateClient(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var m clientMetadata
	if err := decode(r, &m); err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	if m.ClientID != "" && m.ClientID != id {
		writeProblem(w, r, s.log, badRequest("client_id", "client_id must match the URL"))
		return
	}
	m.ClientID = id
	cur, err := s.clients.Client(r.Context(), id)
	if err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	c, err := s.validate(&m)
	if err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	// Whether a client has a secret is decided at registration.
	if c.Public() != cur.Public() {
		writeProblem(w, r, s.log, badRequest("token_endpoint_auth_method",
			"a client cannot switch between public (none) and confidential; register a new client"))
		return
	}
	c.SecretHash, c.CreatedAt, c.UpdatedAt = cur.SecretHash, cur.CreatedAt, s.opts.Now().UTC()
	if err := s.clients.UpdateClient(r.Context(), c); err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	s.opts.OnClientChange(r.Context(), id)
	s.audit(r, secevent.Event{Type: secevent.AdminClientUpdated, ClientID: id})
	writeJSON(w, http.StatusOK, toResponse(c))
}

func (s *Server) listClients(w http.ResponseWriter, r *http.Request) {
	cs, err := s.clients.ListClients(r.Context())
	if err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	out := make([]*clientResponse, 0, len(cs))
	for _, c := range cs {
		out = append(out, toResponse(c))
	}
	writeJSON(w, http.StatusOK, map[string]any{"clients": out})
}

func (s *Server) getClient(w http.ResponseWriter, r *http.Request) {
	c, err := s.clients.Client(r.Context(), r.PathValue("id"))
	if err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, toResponse(c))
}

func (s *Server) deleteClient(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.clients.DeleteClient(r.Context(), id); err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	s.opts.OnClientChange(r.Context(), id)
	s.audit(r, secevent.Event{Type: secevent.AdminClientDeleted, ClientID: id})
	w.WriteHeader(http.StatusNoContent)
}

type secretResponse struct {
	ClientID              string `json:"client_id"`
	ClientSecret          string `json:"client_secret"`
	ClientSecretExpiresAt int64  `json:"client_secret_expires_at"`
}

func (s *Server) rotateSecret(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	c, err := s.clients.Client(r.Context(), id)
	if err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	if c.Public() {
		writeProblem(w, r, s.log, &Error{Status: http.StatusConflict, Detail: "a public client (token_endpoint_auth_method none) has no secret"})
		return
	}
	secret, hash := s.newSecret()
	if err := s.clients.SetClientSecret(r.Context(), id, hash, s.opts.Now().UTC()); err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	s.opts.OnClientChange(r.Context(), id)
	s.audit(r, secevent.Event{Type: secevent.AdminClientSecretRotated, ClientID: id}) // never the secret
	writeJSON(w, http.StatusOK, secretResponse{ClientID: id, ClientSecret: secret})
}
