package admin

import (
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/authd/authd/internal/client"
	"github.com/authd/authd/internal/httpapi"
	"github.com/authd/authd/internal/keys"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/secevent"
	"github.com/authd/authd/internal/store"
)

// Clients registers and manages clients (*client.Service): validation,
// cache invalidation and the audit trail are its business.
type Clients interface {
	Create(ctx context.Context, m client.Metadata, by client.Caller) (*oauth.Client, string, error)
	Update(ctx context.Context, id string, m client.Metadata, by client.Caller) (*oauth.Client, error)
	RotateSecret(ctx context.Context, id string, by client.Caller) (string, error)
	Delete(ctx context.Context, id string, by client.Caller) error
	Get(ctx context.Context, id string) (*oauth.Client, error)
	List(ctx context.Context) ([]*oauth.Client, error)
	MintRegistrationToken(ctx context.Context, ttl time.Duration, maxUses int, by client.Caller) (string, time.Time, error)
}

// KeyRotator rotates signing keys (keys.Manager).
type KeyRotator interface {
	// Rotate adds a key that signs after it has been published for a while.
	Rotate(ctx context.Context, alg string) (*store.SigningKey, error)
	// RotateNow adds a key that signs at once (a suspected compromise).
	RotateNow(ctx context.Context, alg string) (*store.SigningKey, error)
}

// Options configures the admin API.
type Options struct {
	Token        string // the bearer token callers must present
	MaxBodyBytes int64
	Now          func() time.Time
	// Metrics, if set, is served at GET /metrics without the admin token, so a
	// Prometheus on the private admin network can scrape it.
	Metrics http.Handler
	// Observe, if set, is told about every request (metrics).
	Observe httpapi.Observer
	// AccessLog writes one INFO line per request (AUTHD_ACCESS_LOG).
	AccessLog bool
	// Events receives the admin audit events; nil discards them.
	Events secevent.Emitter
}

// Deps are the admin API's collaborators. Users and Accounts may be nil: the
// user endpoints then answer 404; so may Scopes, for the scope endpoints.
type Deps struct {
	Clients  Clients
	Keys     KeyRotator
	Users    UserStore
	Accounts Accounts
	// Audit, if set, serves GET /admin/audit.
	Audit  AuditReader
	Scopes ScopeStore
	// Resources, if set, serves /admin/resources (RFC 8707 API resources).
	Resources Resources
	// TrustedIssuers, if set, serves /admin/trusted-issuers (token
	// exchange and JWT bearer issuers).
	TrustedIssuers TrustedIssuers
}

// Server is the admin API.
type Server struct {
	clients  Clients
	keys     KeyRotator
	users    UserStore
	accounts Accounts
	scopes   ScopeStore
	trail    AuditReader
	res      Resources
	issuers  TrustedIssuers
	log      *slog.Logger
	opts     Options
	token    [32]byte
	handler  http.Handler
}

// New builds the admin API handler.
func New(d Deps, log *slog.Logger, opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = 64 << 10
	}
	if opts.Events == nil {
		opts.Events = secevent.Discard{}
	}
	s := &Server{clients: d.Clients, keys: d.Keys, users: d.Users, accounts: d.Accounts, scopes: d.Scopes, trail: d.Audit, res: d.Resources, issuers: d.TrustedIssuers, log: log, opts: opts, token: sha256.Sum256([]byte(opts.Token))}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /admin/clients", s.createClient)
	mux.HandleFunc("GET /admin/clients", s.listClients)
	mux.HandleFunc("GET /admin/clients/{id}", s.getClient)
	mux.HandleFunc("DELETE /admin/clients/{id}", s.deleteClient)
	mux.HandleFunc("PUT /admin/clients/{id}", s.updateClient)
	mux.HandleFunc("POST /admin/clients/{id}/secret", s.rotateSecret)
	mux.HandleFunc("POST /admin/keys/rotate", s.rotateKey)
	mux.HandleFunc("POST /admin/registration-tokens", s.createRegistrationToken)
	if s.users != nil && s.accounts != nil {
		mux.HandleFunc("POST /admin/users", s.createUser)
		mux.HandleFunc("GET /admin/users", s.listUsers)
		mux.HandleFunc("GET /admin/users/{id}", s.getUser)
		mux.HandleFunc("DELETE /admin/users/{id}", s.deleteUser)
		mux.HandleFunc("PATCH /admin/users/{id}", s.patchUser)
		mux.HandleFunc("POST /admin/users/{id}/password", s.setPassword)
		mux.HandleFunc("POST /admin/users/{id}/unlock", s.unlockUser)
		mux.HandleFunc("DELETE /admin/users/{id}/sessions", s.endUserSessions)
	}
	if s.scopes != nil {
		mux.HandleFunc("GET /admin/scopes", s.listScopes)
		mux.HandleFunc("PUT /admin/scopes/{name}", s.putScope)
		mux.HandleFunc("DELETE /admin/scopes/{name}", s.deleteScope)
	}
	if s.res != nil {
		mux.HandleFunc("POST /admin/resources", s.createResource)
		mux.HandleFunc("GET /admin/resources", s.listResources)
		mux.HandleFunc("GET /admin/resources/{id}", s.getResource)
		mux.HandleFunc("PUT /admin/resources/{id}", s.updateResource)
		mux.HandleFunc("DELETE /admin/resources/{id}", s.deleteResource)
	}
	if s.issuers != nil {
		mux.HandleFunc("POST /admin/trusted-issuers", s.createTrustedIssuer)
		mux.HandleFunc("GET /admin/trusted-issuers", s.listTrustedIssuers)
		mux.HandleFunc("GET /admin/trusted-issuers/{id}", s.getTrustedIssuer)
		mux.HandleFunc("DELETE /admin/trusted-issuers/{id}", s.deleteTrustedIssuer)
	}
	if s.trail != nil {
		mux.HandleFunc("GET /admin/audit", s.listAudit)
	}
	// Profiles behind the admin token: they show memory contents and code
	// paths, and a CPU profile costs while it runs. The admin server's write
	// timeout (30 s) bounds ?seconds=.
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, log, &Error{Status: http.StatusNotFound, Detail: "no such endpoint"})
	})
	var h http.Handler = s.authenticate(mux)
	if opts.Metrics != nil {
		outer := http.NewServeMux()
		outer.Handle("GET /metrics", opts.Metrics)
		outer.Handle("/", h)
		h = outer
	}
	// The admin listener is private: its peers are operators, not proxies.
	s.handler = httpapi.NewMiddleware(h, log, httpapi.MiddlewareOptions{
		BodyLimit: httpapi.FixedLimit(opts.MaxBodyBytes),
		Observe:   opts.Observe,
		AccessLog: opts.AccessLog,
	})
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// audit records what an administrator did (or tried), with the caller's
// address.
func (s *Server) audit(r *http.Request, e secevent.Event) {
	e.IP = callerIP(r)
	if e.Type != secevent.AdminAuthFailed {
		if e.Detail == nil {
			e.Detail = map[string]string{}
		}
		e.Detail["by"] = caller(r).Credential
	}
	s.opts.Events.Emit(e)
}

// callerIP is the admin caller's address: the admin listener is private, so
// its peers are operators, never proxies, and RemoteAddr is the caller.
func callerIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return ""
	}
	return host
}

// caller is who made r, for services that record it.
func caller(r *http.Request) client.Caller {
	return client.Caller{Credential: "admin-token", IP: callerIP(r)}
}

// authenticate checks the bearer token in constant time (comparing hashes, so
// the length of the token does not leak either).
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		const prefix = "bearer "
		if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
			s.audit(r, secevent.Event{Type: secevent.AdminAuthFailed, Detail: map[string]string{"reason": "missing"}})
			writeProblem(w, r, s.log, &Error{Status: http.StatusUnauthorized, Detail: "an admin bearer token is required"})
			return
		}
		got := sha256.Sum256([]byte(strings.TrimSpace(h[len(prefix):])))
		if subtle.ConstantTimeCompare(got[:], s.token[:]) != 1 {
			// Never the token presented: it may be a near miss of the real one.
			s.audit(r, secevent.Event{Type: secevent.AdminAuthFailed, Detail: map[string]string{"reason": "invalid"}})
			writeProblem(w, r, s.log, &Error{Status: http.StatusUnauthorized, Detail: "the admin bearer token is not valid"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

type rotateKeyRequest struct {
	// Purpose ("access", "id_token") or Algorithm (every purpose using it)
	// picks what rotates; neither: the access-token key.
	Purpose   string `json:"purpose"`
	Algorithm string `json:"algorithm"`
	// Immediate skips pre-publication: for a key that may be compromised.
	Immediate bool `json:"immediate"`
}

type rotateKeyResponse struct {
	KeyID     string    `json:"kid"`
	Algorithm string    `json:"algorithm"`
	ActiveAt  time.Time `json:"active_at"`
}

func (s *Server) rotateKey(w http.ResponseWriter, r *http.Request) {
	var req rotateKeyRequest
	if r.ContentLength != 0 {
		if err := decode(r, &req); err != nil {
			writeProblem(w, r, s.log, err)
			return
		}
	}
	switch req.Algorithm {
	case "", "ES256", "EdDSA", "RS256":
	default:
		writeProblem(w, r, s.log, badRequest("algorithm", "algorithm must be ES256, EdDSA or RS256"))
		return
	}
	switch req.Purpose {
	case "", keys.PurposeAccess, keys.PurposeIDToken:
	default:
		writeProblem(w, r, s.log, badRequest("purpose", "purpose must be access or id_token"))
		return
	}
	if req.Purpose != "" && req.Algorithm != "" {
		writeProblem(w, r, s.log, badRequest("purpose", "give purpose or algorithm, not both"))
		return
	}
	rotate := s.keys.Rotate
	if req.Immediate {
		rotate = s.keys.RotateNow
	}
	k, err := rotate(r.Context(), cmp.Or(req.Purpose, req.Algorithm))
	if errors.Is(err, keys.ErrNoSeries) {
		field := "algorithm"
		if req.Purpose != "" {
			field = "purpose"
		}
		writeProblem(w, r, s.log, badRequest(field, err.Error()))
		return
	}
	if err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	s.log.Info("signing key rotated", "kid", k.ID, "algorithm", k.Algorithm, "active_at", k.CreatedAt.UTC(), "immediate", req.Immediate)
	s.audit(r, secevent.Event{Type: secevent.AdminKeyRotated, Detail: map[string]string{"kid": k.ID, "algorithm": k.Algorithm}})
	writeJSON(w, http.StatusOK, rotateKeyResponse{KeyID: k.ID, Algorithm: k.Algorithm, ActiveAt: k.CreatedAt.UTC()})
}
