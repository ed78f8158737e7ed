package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/authd/authd/internal/mtls"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/secevent"
	"github.com/authd/authd/internal/token"
)

// TokenService is what the OAuth handlers need from token.Service.
type TokenService interface {
	Exchange(ctx context.Context, req *token.Request) (*token.Response, error)
	AuthenticateClient(ctx context.Context, cr token.Credentials) (*oauth.Client, error)
	AuthenticateConfidential(ctx context.Context, cr token.Credentials) (*oauth.Client, error)
	// IntrospectFor and IntrospectBatchFor answer the authenticated
	// caller: a resource server learns only of tokens for its resources.
	IntrospectFor(ctx context.Context, callerID, tok string) (*token.Info, error)
	IntrospectBatchFor(ctx context.Context, callerID string, toks []string) ([]*token.Info, error)
	Revoke(ctx context.Context, client *oauth.Client, tok string) error
	UserInfo(ctx context.Context, accessToken string, held token.Possession) (*token.UserInfo, error)
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
	// IDTokenAlgs are all the algorithms id_tokens may be signed with (a
	// client's id_token_signed_response_alg); nil: IDTokenAlg alone.
	IDTokenAlgs []string
	// AccessTokenAlg is the algorithm JWT access tokens are signed with;
	// "" advertises every algorithm the key set has.
	AccessTokenAlg string
	// ClientIPs attributes requests to clients (trusted proxies); nil: the peer.
	ClientIPs *ClientIPs
	// Observe, if set, is told about every request (metrics).
	Observe Observer
	// Limits, if set, bounds unauthenticated requests per address, requests
	// per authenticated client and inactive introspection answers per caller
	// (defense.Requests).
	Limits Limits
	// Events, if set, is told of every introspection (token.introspected, one
	// per request, batch or single; the pipeline aggregates them per caller).
	Events secevent.Emitter
	// DiscoveryMaxAge and JWKSMaxAge are the Cache-Control max-age in seconds.
	DiscoveryMaxAge int
	JWKSMaxAge      int
	// Origins says whether any client allows a web origin: it answers CORS
	// preflights and decides CORS at userinfo. nil: no origin is allowed
	// there (scripts then reach only discovery and the JWKS, and simple
	// requests to the client-authenticated endpoints).
	Origins Origins
	// AccessLog writes one INFO line per request (AUTHD_ACCESS_LOG), to
	// AccessLogger when set, else to the server's logger.
	AccessLog    bool
	AccessLogger *slog.Logger
	// AccessLines, if set, receives the access log's lines instead,
	// formatted by the middleware as AccessLogger's JSON handler would
	// (AccessLogger still decides which levels are written).
	AccessLines io.Writer
	// Registration, if set, serves dynamic client registration (RFC 7591,
	// RFC 7592) and advertises it.
	Registration *Registration
	// SignIntrospection, if set, answers introspection requests that accept
	// application/token-introspection+jwt with a signed JWT (RFC 9701),
	// signed with IntrospectionAlg, which discovery advertises.
	SignIntrospection func(info *token.Info, audience string) (string, error)
	IntrospectionAlg  string
	// ClientIDMetadataDocuments advertises that a client_id may be the URL
	// of the client's metadata document (the token service and the login
	// pages resolve such ids; this only says so).
	ClientIDMetadataDocuments bool
	// LogoutNotifications advertises OpenID Connect Back-Channel Logout 1.0
	// and Front-Channel Logout 1.0 with session ids (with OIDC only).
	LogoutNotifications bool
	// ClientCerts, if set, reads client certificates (mutual TLS, RFC 8705)
	// for client authentication and certificate-bound tokens, and the
	// metadata advertises them.
	ClientCerts *mtls.Source
	// AssertionAlgs are the JWS algorithms client assertions may use; set,
	// it advertises private_key_jwt and client_secret_jwt.
	AssertionAlgs []string
	// DPoP, if set, verifies DPoP proofs (RFC 9449) and binds tokens to
	// their keys.
	DPoP *DPoP
	// Now is the clock DPoP proofs are judged by; nil: time.Now.
	Now func() time.Time
	// PAR, if set, serves the pushed authorization request endpoint (RFC
	// 9126) and advertises it.
	PAR *PAR
	// Device, if set, serves the device authorization endpoint (RFC 8628
	// §3.1) and advertises it; the login flow serves the verification page.
	Device DeviceAuthorizer
	// RequestObjectAlgs, if set, advertises signed request objects (RFC
	// 9101) with these algorithms at the authorization endpoint and PAR.
	RequestObjectAlgs []string
	// NotFoundPage, if set, answers a request that matches no route and
	// prefers HTML (a person's browser) with a page (login.Handler.NotFound);
	// nil: a plain built-in page. Other requests get JSON either way.
	NotFoundPage http.Handler
}

// Limits are the request limits the public API enforces.
type Limits interface {
	// CheckIP refuses an address already over its budget, charging nothing;
	// ChargeIP charges a request that did not authenticate, once answered.
	CheckIP(ctx context.Context, ip string) error
	ChargeIP(ctx context.Context, ip string)
	// AllowClient charges a request to the client that proved itself in it.
	AllowClient(ctx context.Context, c *oauth.Client, ip string) error
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
	// selfOrigin is the issuer's origin: requests from it are same-origin.
	selfOrigin string
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

func (s *Server) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

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
	if o, ok := oauth.WebOrigin(opts.Issuer); ok {
		s.selfOrigin = o
	}
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
	// CORS preflights (Fetch, "CORS-preflight request").
	for _, p := range []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration", PathJWKS} {
		mux.HandleFunc("OPTIONS "+p, s.preflightPublic)
	}
	for _, p := range []string{PathToken, PathIntrospect, PathIntrospectBatch, PathRevoke} {
		mux.HandleFunc("OPTIONS "+p, s.preflight(hdrPOST))
	}
	mux.HandleFunc("OPTIONS "+PathUserInfo, s.preflight(hdrGETPOST))
	if opts.Registration != nil {
		mux.HandleFunc("POST "+PathRegister, s.handleRegister)
		for _, m := range []string{"GET", "PUT", "DELETE"} {
			mux.HandleFunc(m+" "+PathRegister+"/{id}", s.handleRegistration)
		}
	}
	if opts.PAR != nil {
		mux.HandleFunc("POST "+PathPAR, s.handlePAR)
		mux.HandleFunc("OPTIONS "+PathPAR, s.preflight(hdrPOST))
	}
	if opts.Device != nil {
		mux.HandleFunc("POST "+PathDeviceAuthorization, s.handleDeviceAuthorization)
	}
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
		s.notFound(w, r)
	})
	var h http.Handler = mux
	if opts.Limits != nil {
		h = s.limitIP(mux)
	}
	s.handler = NewMiddleware(h, log, MiddlewareOptions{
		BodyLimit: func(r *http.Request) int64 {
			if r.URL.Path == PathIntrospectBatch {
				return opts.MaxBatchBodyBytes
			}
			return opts.MaxBodyBytes
		},
		Observe:      opts.Observe,
		AccessLog:    opts.AccessLog,
		AccessLogger: opts.AccessLogger,
		AccessLines:  opts.AccessLines,
		ClientIPs:    opts.ClientIPs,
	})
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

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
