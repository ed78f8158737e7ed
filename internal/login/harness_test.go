package login

import (
	"context"
	"html"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/internal/testenv/clocktest"
	"github.com/authd/authd/internal/testenv/dbtest"

	"github.com/authd/authd/internal/account"
	"github.com/authd/authd/internal/keys"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/password"
	"github.com/authd/authd/internal/store"
	"github.com/authd/authd/internal/store/sqlite"
)

const (
	testIssuer   = "http://authd.test"
	testPassword = "correct horse battery staple"
	// RFC 7636 Appendix B.
	testVerifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	testChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
)

// seededRandom is deterministic randomness for reproducible tests.
func seededRandom() func([]byte) {
	var mu sync.Mutex
	rng := rand.NewChaCha8([32]byte{1, 2, 3})
	return func(b []byte) {
		mu.Lock()
		defer mu.Unlock()
		_, _ = rng.Read(b)
	}
}

// countingAccounts passes through to the real account.Service, counting
// Authenticate calls; fault, if set, is returned instead (injected faults:
// ErrBusy, a Guard's refusal).
type countingAccounts struct {
	Accounts
	calls atomic.Int64
	fault atomic.Pointer[error]
}

func (a *countingAccounts) Authenticate(ctx context.Context, username, pw string) (*store.User, error) {
	a.calls.Add(1)
	if e := a.fault.Load(); e != nil {
		return nil, *e
	}
	return a.Accounts.Authenticate(ctx, username, pw)
}

func (a *countingAccounts) setFault(err error) {
	if err == nil {
		a.fault.Store(nil)
		return
	}
	a.fault.Store(&err)
}

type env struct {
	t        *testing.T
	db       *sqlite.DB
	clock    *clocktest.Clock // the fake clock handlers and the store see
	svc      *account.Service
	accounts *countingAccounts
	keys     *keys.Manager // signs the id_tokens logout tests present as hints
	h        *Handler
	srv      *httptest.Server
	client   *http.Client
	alice    *store.User
	logs     *lockedBuffer
}

type lockedBuffer = testenv.Buffer

func testClients() []*oauth.Client {
	return []*oauth.Client{
		{
			ID: "web", Name: "Web App", TokenEndpointAuthMethod: oauth.AuthMethodBasic,
			GrantTypes:             []string{oauth.GrantAuthorizationCode, oauth.GrantRefreshToken},
			RedirectURIs:           []string{"https://app.example/cb", "https://app.example/cb2?x=1"},
			PostLogoutRedirectURIs: []string{"https://app.example/bye", "https://app.example/bye2?x=1"},
			Scopes:                 []string{"openid", "profile", "email", "api"},
		},
		{
			ID: "first", Name: "First Party", TokenEndpointAuthMethod: oauth.AuthMethodNone, FirstParty: true,
			GrantTypes:             []string{oauth.GrantAuthorizationCode},
			RedirectURIs:           []string{"https://first.example/callback?tenant=a"},
			PostLogoutRedirectURIs: []string{"https://first.example/signed-out"},
			Scopes:                 []string{"openid", "profile"},
		},
		{
			ID: "m2m", Name: "Machine", TokenEndpointAuthMethod: oauth.AuthMethodBasic,
			GrantTypes:   []string{oauth.GrantClientCredentials},
			RedirectURIs: []string{"https://m2m.example/cb"},
			Scopes:       []string{"api"},
		},
	}
}

func openStore(t testing.TB) *sqlite.DB {
	t.Helper()
	ctx := context.Background()
	db := dbtest.SQLite(t)
	for _, c := range testClients() {
		if err := db.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// newKeys is a real key manager over db, as authd serve builds it (ES256
// rather than RS256 only because its keys are quicker to generate).
func newKeys(t testing.TB, db keys.KeyStore, now func() time.Time) *keys.Manager {
	t.Helper()
	sealer, err := keys.NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	km, err := keys.NewManager(db, sealer, keys.Options{Algorithms: []string{keys.ES256}, Retain: time.Hour, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if err := km.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return km
}

func newEnv(t *testing.T, issuer string) *env {
	t.Helper()
	return newEnvWith(t, issuer, nil)
}

// newEnvWith lets a test wrap the handler's dependencies (to inject faults).
func newEnvWith(t *testing.T, issuer string, wrap func(*Deps)) *env {
	t.Helper()
	return newEnvConfig(t, envConfig{issuer: issuer, wrap: wrap})
}

// envConfig is what tests may vary in an env.
type envConfig struct {
	issuer string
	wrap   func(*Deps)
	// guard, if set, is the account Guard; clientIP the handler's (default
	// the remote address).
	guard    account.Guard
	clientIP func(*http.Request) string
	// opts, if set, changes the handler's Options before New.
	opts func(*Options)
	// debug logs at debug level too.
	debug bool
}

func newEnvConfig(t *testing.T, cfg envConfig) *env {
	t.Helper()
	issuer, wrap := cfg.issuer, cfg.wrap
	e := &env{t: t, db: openStore(t), clock: clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))}
	ctx := context.Background()
	hasher := password.New(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, password.Limits{})
	e.svc = account.New(e.db, hasher, password.Policy{}, account.Options{
		Now: e.clock.Now, Logger: slog.New(slog.DiscardHandler), Guard: cfg.guard,
	})
	var err error
	if e.alice, err = e.svc.Create(ctx, "Alice", testPassword, "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	disabled, err := e.svc.Create(ctx, "dora", testPassword, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.SetUserDisabled(ctx, disabled.ID, true, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	e.accounts = &countingAccounts{Accounts: e.svc}
	e.keys = newKeys(t, e.db, e.clock.Now)
	deps := Deps{Clients: e.db, Accounts: e.accounts, Sessions: e.db, Consents: e.db, Codes: e.db, IDTokens: e.keys}
	if wrap != nil {
		wrap(&deps)
	}
	e.logs = &lockedBuffer{}
	level := slog.LevelInfo
	if cfg.debug {
		level = slog.LevelDebug
	}
	opts := Options{
		Issuer:   issuer,
		CSRFKey:  []byte("0123456789abcdef0123456789abcdef"),
		Now:      e.clock.Now,
		Random:   seededRandom(),
		Logger:   slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: level})),
		ClientIP: cfg.clientIP,
	}
	if cfg.opts != nil {
		cfg.opts(&opts)
	}
	e.h, err = New(deps, opts)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	e.h.Register(mux)
	// Stand in for the shared middleware, whose CSP the pages must override.
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		w.Header().Set("X-Request-Id", "test")
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(e.srv.Close)
	e.client = e.newBrowser()
	return e
}

// newBrowser is a client with its own cookie jar that does not follow
// redirects, so tests can assert Location.
func (e *env) newBrowser() *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

type response struct {
	status   int
	header   http.Header
	body     string
	cookies  []*http.Cookie
	location *url.URL
}

func (e *env) do(c *http.Client, req *http.Request) *response {
	e.t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	r := &response{status: resp.StatusCode, header: resp.Header, body: string(body), cookies: resp.Cookies()}
	if loc := resp.Header.Get("Location"); loc != "" {
		if r.location, err = url.Parse(loc); err != nil {
			e.t.Fatalf("Location %q: %v", loc, err)
		}
	}
	return r
}

func (e *env) get(c *http.Client, path string) *response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.do(c, req)
}

func (e *env) post(c *http.Client, path string, form url.Values) *response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.do(c, req)
}

// authorize sends GET /oauth2/authorize with p.
func (e *env) authorize(c *http.Client, p url.Values) *response {
	e.t.Helper()
	return e.get(c, PathAuthorize+"?"+p.Encode())
}

// authParams is a valid request for client "web" (or the client named),
// with overrides applied; an empty override value deletes the parameter.
func authParams(clientID string, overrides ...string) url.Values {
	p := url.Values{
		"client_id":             {clientID},
		"response_type":         {"code"},
		"state":                 {"st-123"},
		"nonce":                 {"n-456"},
		"code_challenge":        {testChallenge},
		"code_challenge_method": {"S256"},
	}
	if clientID == "web" {
		p.Set("redirect_uri", "https://app.example/cb")
		p.Set("scope", "openid profile")
	}
	for i := 0; i+1 < len(overrides); i += 2 {
		if overrides[i+1] == "" {
			p.Del(overrides[i])
		} else {
			p.Set(overrides[i], overrides[i+1])
		}
	}
	return p
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// formOf returns the hidden fields of the page's form.
func formOf(t *testing.T, body string) url.Values {
	t.Helper()
	v := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(body, -1) {
		v.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	if v.Get(csrfField) == "" {
		t.Fatalf("page has no CSRF token:\n%s", body)
	}
	return v
}

// login submits the login form on page with the given credentials.
func (e *env) login(c *http.Client, page *response, username, pw string) *response {
	e.t.Helper()
	if page.status != http.StatusOK || !strings.Contains(page.body, `action="/login"`) {
		e.t.Fatalf("not a login form: %d\n%s", page.status, page.body)
	}
	f := formOf(e.t, page.body)
	f.Set("username", username)
	f.Set("password", pw)
	return e.post(c, PathLogin, f)
}

// signIn logs the browser in through a first-party authorization.
func (e *env) signIn(c *http.Client) {
	e.t.Helper()
	r := e.login(c, e.authorize(c, authParams("first")), "alice", testPassword)
	if r.status != http.StatusSeeOther || r.location.Query().Get("code") == "" {
		e.t.Fatalf("sign-in: %d %v\n%s", r.status, r.location, r.body)
	}
}

// wantRedirect checks a response is a redirect to base carrying want (a
// parameter with value "*" must be present with any value; "" absent).
func wantRedirect(t *testing.T, r *response, status int, base string, want map[string]string) url.Values {
	t.Helper()
	if r.status != status || r.location == nil {
		t.Fatalf("got %d Location %v, want %d redirect\n%s", r.status, r.location, status, r.body)
	}
	u := *r.location
	u.RawQuery = ""
	if u.String() != base {
		t.Fatalf("redirected to %s, want %s", u.String(), base)
	}
	q := r.location.Query()
	for k, v := range want {
		switch {
		case v == "*" && q.Get(k) == "":
			t.Errorf("redirect lacks %s: %s", k, r.location)
		case v == "" && q.Has(k):
			t.Errorf("redirect has %s=%q: %s", k, q.Get(k), r.location)
		case v != "*" && v != "" && q.Get(k) != v:
			t.Errorf("redirect %s = %q, want %q", k, q.Get(k), v)
		}
	}
	if q.Get("iss") != testIssuer && q.Get("iss") != "https://authd.test" {
		t.Errorf("redirect iss = %q", q.Get("iss"))
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("redirect Cache-Control = %q", r.header.Get("Cache-Control"))
	}
	return q
}

func wantPage(t *testing.T, r *response, status int, contains string) {
	t.Helper()
	if r.status != status || r.location != nil {
		t.Fatalf("got %d Location %v, want a %d page", r.status, r.location, status)
	}
	if !strings.Contains(r.body, contains) {
		t.Errorf("page lacks %q:\n%s", contains, r.body)
	}
	wantPageHeaders(t, r.header)
}

func wantPageHeaders(t *testing.T, h http.Header) {
	t.Helper()
	want := map[string]string{
		"Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'",
		"Cache-Control":           "no-store",
		"X-Frame-Options":         "DENY",
		"Content-Type":            "text/html; charset=utf-8",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}
