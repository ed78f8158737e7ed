package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/token"
)

// TokenService is what the OAuth handlers need from token.Service.
type TokenService interface {
	Exchange(ctx context.Context, req *token.Request) (*token.Response, error)
	AuthenticateClient(ctx context.Context, cr token.Credentials) (*oauth.Client, error)
	AuthenticateConfidential(ctx context.Context, cr token.Credentials) (*oauth.Client, error)
	Introspect(ctx context.Context, tok string) (*token.Info, error)
	IntrospectBatch(ctx context.Context, toks []string) ([]*token.Info, error)
	Revoke(ctx context.Context, client *oauth.Client, tok string) error
	UserInfo(ctx context.Context, accessToken string) (*token.UserInfo, error)
	Grants() []string
}

// KeySet publishes the signing keys.
type KeySet interface {
	JWKS() []byte
	Algorithms() []string
}

// Check is one readiness probe (e.g. the store's Ping).
type Check struct {
	Name string
	Fn   func(context.Context) error
	// Optional checks report "degraded" without failing readiness: authd keeps
	// serving without them (Redis: L1 and the store answer instead).
	Optional bool
}

// Options configures the public API.
type Options struct {
	Issuer       string
	MaxBodyBytes int64
	// MaxBatchBodyBytes caps batch introspection, which carries up to 100 tokens.
	MaxBatchBodyBytes int64
	// Ready lists what /readyz checks.
	Ready []Check
	// Mount adds routes served by other packages (the browser login flow).
	Mount func(mux *http.ServeMux)
	// OIDC advertises the authorization and userinfo endpoints and OpenID
	// Connect metadata; set it when the login flow is mounted.
	OIDC bool
	// IDTokenAlg is the id_token signing algorithm advertised with OIDC.
	IDTokenAlg string
	// AccessTokenAlg is the algorithm JWT access tokens are signed with;
	// "" advertises every algorithm the key set has.
	AccessTokenAlg string
	// ClientIPs attributes requests to clients (trusted proxies); nil: the peer.
	ClientIPs *ClientIPs
	// Observe, if set, is told about every request (metrics).
	Observe Observer
	// Limits, if set, bounds requests per address and inactive introspection
	// answers per caller (defense.Requests).
	Limits Limits
	// DiscoveryMaxAge and JWKSMaxAge are the Cache-Control max-age in seconds.
	DiscoveryMaxAge int
	JWKSMaxAge      int
}

// Limits are the request limits the public API enforces.
type Limits interface {
	AllowIP(ctx context.Context, ip string) error
	AllowIntrospection(ctx context.Context, callerID, ip string) error
	Inactive(ctx context.Context, callerID string, n int)
}

// Server is the public API.
type Server struct {
	tokens    TokenService
	keys      KeySet
	log       *slog.Logger
	opts      Options
	discovery []byte
	handler   http.Handler
}

// Paths of the public endpoints, relative to the issuer.
const (
	PathToken           = "/oauth2/token"
	PathIntrospect      = "/oauth2/introspect"
	PathIntrospectBatch = "/oauth2/introspect/batch"
	PathRevoke          = "/oauth2/revoke"
	PathJWKS            = "/oauth2/jwks"
	PathUserInfo        = "/oauth2/userinfo"
	PathAuthorize       = "/oauth2/authorize"
)

// New builds the public API handler.
func New(tokens TokenService, keys KeySet, log *slog.Logger, opts Options) *Server {
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = 64 << 10
	}
	if opts.MaxBatchBodyBytes == 0 {
		opts.MaxBatchBodyBytes = token.MaxBatch*token.MaxTokenLength + 4096
	}
	if opts.DiscoveryMaxAge == 0 {
		opts.DiscoveryMaxAge = 3600
	}
	if opts.JWKSMaxAge == 0 {
		// Short, so a resource server picks up a new key soon after a rotation.
		opts.JWKSMaxAge = 300
	}
	s := &Server{tokens: tokens, keys: keys, log: log, opts: opts}
	s.discovery = s.discoveryDocument()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", s.handleDiscovery)
	mux.HandleFunc("GET /.well-known/openid-configuration", s.handleDiscovery)
	mux.HandleFunc("GET "+PathJWKS, s.handleJWKS)
	mux.HandleFunc("POST "+PathToken, s.handleToken)
	mux.HandleFunc("POST "+PathIntrospect, s.handleIntrospect)
	mux.HandleFunc("POST "+PathIntrospectBatch, s.handleIntrospectBatch)
	mux.HandleFunc("POST "+PathRevoke, s.handleRevoke)
	mux.HandleFunc("GET "+PathUserInfo, s.handleUserInfo)
	mux.HandleFunc("POST "+PathUserInfo, s.handleUserInfo)
	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.HandleFunc("GET /readyz", s.handleReady)
	if opts.Mount != nil {
		opts.Mount(mux)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// The catch-all also catches known paths with the wrong method, which
		// deserve 405 and an Allow header (RFC 9110 §15.5.6), not 404.
		if allow := allowedMethods(mux, r); allow != "" {
			w.Header().Set("Allow", allow)
			writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: oauth.CodeInvalidRequest, Description: "method not allowed"})
			return
		}
		writeJSON(w, http.StatusNotFound, errorBody{Error: "not_found"})
	})
	var h http.Handler = mux
	if opts.Limits != nil {
		h = s.limitIP(mux)
	}
	s.handler = Middleware(h, log, func(r *http.Request) int64 {
		if r.URL.Path == PathIntrospectBatch {
			return opts.MaxBatchBodyBytes
		}
		return opts.MaxBodyBytes
	}, opts.Observe)
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// limitIP refuses an address over its request budget before any other work.
// Health probes are exempt: an orchestrator must always reach them.
func (s *Server) limitIP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" && r.URL.Path != "/readyz" {
			if err := s.opts.Limits.AllowIP(r.Context(), s.opts.ClientIPs.Of(r)); err != nil {
				writeError(w, r, s.log, err)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// checkIntrospection refuses a caller out of inactive answers (enumeration).
func (s *Server) checkIntrospection(r *http.Request, caller *oauth.Client) error {
	if s.opts.Limits == nil {
		return nil
	}
	return s.opts.Limits.AllowIntrospection(r.Context(), caller.ID, s.opts.ClientIPs.Of(r))
}

// countInactive charges a caller for the inactive answers it got.
func (s *Server) countInactive(r *http.Request, caller *oauth.Client, infos ...*token.Info) {
	if s.opts.Limits == nil {
		return
	}
	n := 0
	for _, i := range infos {
		if !i.Active {
			n++
		}
	}
	s.opts.Limits.Inactive(r.Context(), caller.ID, n)
}

// formRequest parses a form body and the client credentials it carries.
func formRequest(r *http.Request) (form, token.Credentials, error) {
	f, err := parseForm(r)
	if err != nil {
		return nil, token.Credentials{}, err
	}
	cr, err := clientCredentials(r, f)
	return f, cr, err
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	f, cr, err := formRequest(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	req := &token.Request{
		GrantType:    f["grant_type"],
		Credentials:  cr,
		Scope:        f["scope"],
		Code:         f["code"],
		RedirectURI:  f["redirect_uri"],
		CodeVerifier: f["code_verifier"],
		RefreshToken: f["refresh_token"],
		Username:     f["username"],
		Password:     f["password"],
		ClientIP:     s.opts.ClientIPs.Of(r),
	}
	resp, err := s.tokens.Exchange(r.Context(), req)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	f, cr, err := formRequest(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	caller, err := s.tokens.AuthenticateConfidential(r.Context(), cr)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	tok, ok := f["token"]
	if !ok {
		writeError(w, r, s.log, oauth.InvalidRequest("token is required"))
		return
	}
	if err := s.checkIntrospection(r, caller); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	info, err := s.tokens.Introspect(r.Context(), tok)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	s.countInactive(r, caller, info)
	writeRaw(w, http.StatusOK, info.AppendJSON(make([]byte, 0, 320)))
}

type batchRequest struct {
	Tokens       []string `json:"tokens"`
	ClientID     string   `json:"client_id,omitempty"`
	ClientSecret string   `json:"client_secret,omitempty"`
}

func (s *Server) handleIntrospectBatch(w http.ResponseWriter, r *http.Request) {
	if !isJSON(r.Header.Get("Content-Type")) {
		writeError(w, r, s.log, oauth.InvalidRequest("Content-Type must be application/json"))
		return
	}
	body, err := readBody(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	var req batchRequest
	if err := json.Unmarshal(body, &req); err != nil || req.Tokens == nil {
		writeError(w, r, s.log, oauth.InvalidRequest(`body must be {"tokens":["…", …]}`))
		return
	}
	// Authenticate before looking at the size, so an anonymous caller learns
	// nothing but invalid_client.
	f := form{}
	if req.ClientSecret != "" {
		f["client_id"], f["client_secret"] = req.ClientID, req.ClientSecret
	}
	cr, err := clientCredentials(r, f)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	caller, err := s.tokens.AuthenticateConfidential(r.Context(), cr)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if len(req.Tokens) > token.MaxBatch {
		writeError(w, r, s.log, oauth.InvalidRequest("at most 100 tokens per batch"))
		return
	}
	if err := s.checkIntrospection(r, caller); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	infos, err := s.tokens.IntrospectBatch(r.Context(), req.Tokens)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	s.countInactive(r, caller, infos...)
	out := make([]byte, 0, 16+len(infos)*320)
	out = append(out, `{"results":[`...)
	for i, info := range infos {
		if i > 0 {
			out = append(out, ',')
		}
		out = info.AppendJSON(out)
	}
	writeRaw(w, http.StatusOK, append(out, ']', '}'))
}

func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	f, cr, err := formRequest(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	client, err := s.tokens.AuthenticateClient(r.Context(), cr)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if err := s.tokens.Revoke(r.Context(), client, f["token"]); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	// RFC 7009 §2.2: 200 with an empty body.
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) {
	doc := s.keys.JWKS()
	sum := sha256.Sum256(doc)
	etag := `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`
	h := w.Header()
	h.Set("Content-Type", "application/jwk-set+json")
	h.Set("Cache-Control", "public, max-age="+itoa(s.opts.JWKSMaxAge))
	h.Set("ETag", etag)
	h.Set("Access-Control-Allow-Origin", "*")
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(doc)
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeRaw(w, http.StatusOK, []byte(`{"status":"ok"}`))
}

type readyBody struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	body := readyBody{Status: "ok", Checks: map[string]string{}}
	status := http.StatusOK
	for _, c := range s.opts.Ready {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		err := c.Fn(ctx)
		cancel()
		if err != nil {
			// The detail is logged, not shown: readyz is public.
			s.log.Warn("readiness check failed", "check", c.Name, "error", err.Error())
			body.Checks[c.Name] = "unavailable"
			if c.Optional {
				if status == http.StatusOK {
					body.Status = "degraded"
				}
				continue
			}
			body.Status, status = "unavailable", http.StatusServiceUnavailable
			continue
		}
		body.Checks[c.Name] = "ok"
	}
	writeJSON(w, status, body)
}

func isJSON(ct string) bool {
	return ct == "application/json" || len(ct) > 16 && ct[:16] == "application/json" && (ct[16] == ';' || ct[16] == ' ')
}

// allowedMethods lists the methods that have a route for r's path.
func allowedMethods(mux *http.ServeMux, r *http.Request) string {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		probe := &http.Request{Method: m, URL: r.URL, Host: r.Host}
		if _, pattern := mux.Handler(probe); pattern != "/" && pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) == 1 && allow[0] == http.MethodGet {
		allow = append(allow, http.MethodHead) // ServeMux answers HEAD for GET routes
	}
	return strings.Join(allow, ", ")
}
