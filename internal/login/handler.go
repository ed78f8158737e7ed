package login

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/authd/authd/internal/account"
	"github.com/authd/authd/internal/fault"
	"github.com/authd/authd/internal/httpapi"
	"github.com/authd/authd/internal/keys"
	"github.com/authd/authd/internal/logoutnotify"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/secevent"
	"github.com/authd/authd/internal/store"
)

// Paths the handler serves. They are absolute: the handler is mounted at the
// root of the public listener.
const (
	PathAuthorize = "/oauth2/authorize"
	PathLogin     = "/login"
	PathConsent   = "/consent"
	PathLogout    = "/logout"
	PathCSS       = "/assets/login.css"
	// PathLogo serves Options.Logo; nothing is there without one.
	PathLogo = "/assets/logo"
	// PathAccountPassword is where a signed-in user changes their password.
	PathAccountPassword = "/account/password"
)

// Clients looks up registered clients.
type Clients interface {
	// Client returns the client, or an error matching store.ErrNotFound.
	Client(ctx context.Context, id string) (*oauth.Client, error)
}

// Accounts authenticates people and lets them change their password;
// *account.Service implements it.
type Accounts interface {
	// Authenticate returns the user, or account.ErrInvalidCredentials,
	// password.ErrBusy, or an error from the brute-force Guard (an
	// *oauth.Error with a status and Retry-After).
	Authenticate(ctx context.Context, username, pw string) (*store.User, error)
	// User returns the user, or an error matching store.ErrNotFound.
	User(ctx context.Context, id string) (*store.User, error)
	PasswordChanger
}

// PasswordChanger is a person changing their own password.
type PasswordChanger interface {
	// ChangePassword checks current as Authenticate does (so a wrong one is
	// a failed login the brute-force Guard counts), applies the password
	// policy, and ends every session but keepSession (a session's hash) and
	// every token of the user. Errors: account.ErrInvalidCredentials, the
	// Guard's refusal, *account.InputError (the policy's reason),
	// password.ErrBusy, store.ErrNotFound, store failures.
	ChangePassword(ctx context.Context, userID, current, pw string, keepSession []byte) error
}

var _ Accounts = (*account.Service)(nil)

// Codes stores authorization codes.
type Codes interface {
	CreateAuthCode(ctx context.Context, c *store.AuthCode) error
}

// IDTokenVerifier checks a compact JWS against the keys authd publishes;
// *keys.Manager implements it. Logout uses it for id_token_hint.
type IDTokenVerifier interface {
	// Verify returns the payload if token is signed by a published key and
	// its typ header is typ; it does not look at claims.
	Verify(ctx context.Context, token, typ string) ([]byte, error)
}

var _ IDTokenVerifier = (*keys.Manager)(nil)

// SessionLogouts tells relying parties that a session ended
// (*logoutnotify.Notifier): OpenID Connect Back-Channel and Front-Channel
// Logout 1.0.
type SessionLogouts interface {
	// Joined records that clientID was issued a code in the session with
	// sessionHash (of subject, ending at expires) and returns the session's
	// sid for the id_token.
	Joined(ctx context.Context, sessionHash []byte, subject, clientID string, expires time.Time) (string, error)
	// SessionEnding durably enqueues the back-channel notifications of the
	// session and returns its front-channel iframes. It runs before the
	// session is deleted; an error keeps the session.
	SessionEnding(ctx context.Context, subject string, sessionHash []byte) ([]logoutnotify.FrontChannel, error)
}

var _ SessionLogouts = (*logoutnotify.Notifier)(nil)

// Deps are the handler's collaborators; all but Scopes and Logouts are required.
type Deps struct {
	Clients  Clients
	Accounts Accounts
	Sessions store.Sessions
	Consents store.Consents
	Codes    Codes
	IDTokens IDTokenVerifier
	// Scopes, if set, has operators' descriptions of custom scopes for the
	// consent page (store.ScopeDescriptions); nil: built-in ones only.
	Scopes ScopeDescriber
	// RequestObjects, if set, verifies signed request objects (RFC 9101);
	// nil: they are refused with request_not_supported.
	RequestObjects RequestObjects
	// Pushed, if set, stores pushed authorization requests (RFC 9126): Push
	// works and the authorization endpoint accepts their request_uri.
	Pushed PushedRequests
	// Resources checks the resource parameters (RFC 8707); nil: any
	// resource parameter is invalid_target.
	Resources ResourceChecker
	// Logouts, if set, records which clients take part in each session
	// (and gives id_tokens a sid) and tells them when it ends; nil: nobody
	// is told.
	Logouts SessionLogouts
	// Device, if set, serves the device verification page (RFC 8628 §3.3)
	// at PathDevice.
	Device *Device
}

// Options configure the handler. Issuer and CSRFKey are required; zero
// values of the others take the defaults.
type Options struct {
	// Issuer is the issuer identifier, sent as iss with every response to
	// the redirect URI (RFC 9207). When it is https, cookies are Secure and
	// their names carry the __Host- prefix.
	Issuer string
	// CSRFKey is the 32-byte HMAC key for CSRF tokens; derive it from the
	// master key so every replica accepts every other's forms. The key of
	// device cookies is derived from it.
	CSRFKey []byte
	// SessionTTL is how long a login lasts; default 12h.
	SessionTTL time.Duration
	// CodeTTL is an authorization code's lifetime; default 60s (RFC 6749
	// §4.1.2 recommends at most 10 minutes).
	CodeTTL time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Random fills b with cryptographically random bytes; default crypto/rand.
	Random func(b []byte)
	// Logger receives server faults; default slog.Default(). Passwords,
	// codes and cookie values are never logged.
	Logger *slog.Logger
	// ClientIP returns the address a login attempt is attributed to (for
	// the account Guard); default the host of r.RemoteAddr. Set it when
	// authd runs behind a proxy you trust to set a forwarding header.
	ClientIP func(r *http.Request) string
	// ProductName is shown on every page; default "authd". At most
	// MaxProductNameRunes printable characters.
	ProductName string
	// Logo, if set, is shown on every page (see NewLogo).
	Logo *Logo
	// Events receives user.password_changed for self-service changes; nil
	// discards them.
	Events secevent.Emitter
	// RequirePAR refuses authorization requests of every client that were
	// not pushed first (RFC 9126 §5); a client can ask it for itself
	// (require_pushed_authorization_requests, §6).
	RequirePAR bool
	// PushedTTL is a request_uri's lifetime; default 60s.
	PushedTTL time.Duration
	// SecurityProfile is the profile of clients that name none
	// (AUTHD_SECURITY_PROFILE): fapi2 clients must push their requests.
	SecurityProfile string
}

// Handler serves the browser side of the authorization code flow. It is safe
// for concurrent use.
type Handler struct {
	clients  Clients
	accounts Accounts
	sessions store.Sessions
	consents store.Consents
	codes    Codes
	idTokens IDTokenVerifier
	// requestObjects and pushed may be nil: see Deps.
	requestObjects RequestObjects
	pushed         PushedRequests
	logouts        SessionLogouts
	device         *Device

	issuer          string
	secure          bool // cookies carry Secure and __Host- names: the issuer is https
	names           cookieNames
	started         time.Time // sessions under legacy cookie names must be older
	csrfKey         []byte
	deviceKey       []byte
	pushedKey       []byte // MAC of pushed requests carried in forms (pPushed)
	pushedTTL       time.Duration
	requirePAR      bool
	securityProfile string
	sessionTTL      time.Duration
	codeTTL         time.Duration
	now             func() time.Time
	random          func([]byte)
	log             *slog.Logger
	clientIP        func(*http.Request) string
	product         string
	logo            *Logo
	events          secevent.Emitter
	scopes          *scopeTexts
	resources       ResourceChecker

	pages map[string]*template.Template
	css   asset
}

// New builds the handler, parsing its templates.
func New(d Deps, opts Options) (*Handler, error) {
	if d.Device != nil && (d.Device.Authorizations == nil || d.Device.UserCodes == nil) {
		return nil, errors.New("login: Device needs Authorizations and UserCodes")
	}
	if d.Clients == nil || d.Accounts == nil || d.Sessions == nil || d.Consents == nil || d.Codes == nil || d.IDTokens == nil {
		return nil, errors.New("login: every dependency is required")
	}
	iss, err := url.Parse(opts.Issuer)
	if err != nil || (iss.Scheme != "https" && iss.Scheme != "http") || iss.Host == "" {
		return nil, errors.New("login: Issuer must be an absolute http or https URL")
	}
	if len(opts.CSRFKey) != 32 {
		return nil, errors.New("login: CSRFKey must be 32 bytes")
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 12 * time.Hour
	}
	if opts.CodeTTL <= 0 {
		opts.CodeTTL = 60 * time.Second
	}
	if opts.PushedTTL <= 0 {
		opts.PushedTTL = defaultPushedTTL
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Random == nil {
		opts.Random = func(b []byte) { _, _ = rand.Read(b) } // crypto/rand never fails; it crashes instead
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ClientIP == nil {
		opts.ClientIP = remoteIP
	}
	if opts.ProductName == "" {
		opts.ProductName = "authd"
	}
	if err := validProductName(opts.ProductName); err != nil {
		return nil, err
	}
	if opts.Events == nil {
		opts.Events = secevent.Discard{}
	}
	pages, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	css, err := loadCSS()
	if err != nil {
		return nil, err
	}
	return &Handler{
		clients:         d.Clients,
		accounts:        d.Accounts,
		sessions:        d.Sessions,
		consents:        d.Consents,
		codes:           d.Codes,
		idTokens:        d.IDTokens,
		requestObjects:  d.RequestObjects,
		pushed:          d.Pushed,
		issuer:          opts.Issuer,
		secure:          iss.Scheme == "https",
		names:           namesFor(iss.Scheme == "https"),
		started:         opts.Now(),
		csrfKey:         append([]byte(nil), opts.CSRFKey...),
		deviceKey:       deriveDeviceKey(opts.CSRFKey),
		pushedKey:       derivePushedKey(opts.CSRFKey),
		pushedTTL:       opts.PushedTTL,
		requirePAR:      opts.RequirePAR,
		securityProfile: opts.SecurityProfile,
		sessionTTL:      opts.SessionTTL,
		codeTTL:         opts.CodeTTL,
		now:             opts.Now,
		random:          opts.Random,
		log:             opts.Logger,
		clientIP:        opts.ClientIP,
		product:         opts.ProductName,
		logo:            opts.Logo,
		events:          opts.Events,
		scopes:          newScopeTexts(d.Scopes, scopeCacheTTL, opts.Now),
		pages:           pages,
		css:             css,
		resources:       d.Resources,
		logouts:         d.Logouts,
		device:          d.Device,
	}, nil
}

// Register adds the handler's routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+PathAuthorize, h.handleAuthorize)
	// OpenID Connect Core §3.1.2.1: the request may also be form-POSTed.
	mux.HandleFunc("POST "+PathAuthorize, h.handleAuthorizePost)
	mux.HandleFunc("GET "+PathLogin, h.handleLoginPage)
	mux.HandleFunc("POST "+PathLogin, h.handleLogin)
	mux.HandleFunc("POST "+PathConsent, h.handleConsent)
	mux.HandleFunc("GET "+PathLogout, h.handleLogoutPage)
	mux.HandleFunc("POST "+PathLogout, h.handleLogout)
	mux.HandleFunc("GET "+PathCSS, h.handleCSS)
	if h.logo != nil {
		mux.HandleFunc("GET "+PathLogo, h.handleLogo)
	}
	mux.HandleFunc("GET "+PathAccountPassword, h.handlePasswordPage)
	mux.HandleFunc("POST "+PathAccountPassword, h.handlePassword)
	if h.device != nil {
		mux.HandleFunc("GET "+PathDevice, h.handleDevicePage)
		mux.HandleFunc("POST "+PathDevice, h.handleDevice)
	}
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// fault logs an unexpected error with the request id the shared middleware
// put on the response, and says nothing of it to the browser. When the
// browser has gone away, whatever failed failed because its context was
// canceled (the store says so in its own words): nothing is wrong with us,
// so that is logged at debug level, as httpapi does.
func (h *Handler) fault(w http.ResponseWriter, r *http.Request, msg string, err error) {
	c := fault.Classify(r.Context(), err)
	if c.Kind == fault.Protocol {
		c.Kind = fault.Internal // a page that got here did not expect one
	}
	fault.Log(r.Context(), h.log, c, w.Header().Get("X-Request-Id"), r.URL.Path, fmt.Errorf("login: %s: %w", msg, err))
}

// hungUp answers a request whose browser has gone: no page, since no one
// reads it, and 499 for the access log and metrics, as httpapi records it.
func hungUp(w http.ResponseWriter) {
	w.WriteHeader(httpapi.StatusClientClosedRequest)
}
