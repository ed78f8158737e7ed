package httpapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/internal/testenv"

	"github.com/authd/authd/internal/testenv/clocktest"
	"github.com/authd/authd/internal/testenv/dbtest"

	"github.com/authd/authd/internal/account"
	"github.com/authd/authd/internal/authzreq"
	"github.com/authd/authd/internal/cache/memory"
	"github.com/authd/authd/internal/client"
	"github.com/authd/authd/internal/clientauth/assertion"
	"github.com/authd/authd/internal/device"
	"github.com/authd/authd/internal/httpapi"
	"github.com/authd/authd/internal/keys"
	"github.com/authd/authd/internal/login"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/password"
	"github.com/authd/authd/internal/store/sqlite"
	"github.com/authd/authd/internal/token"
)

var update = flag.Bool("update", false, "rewrite golden files")

const issuer = "https://auth.example"

type harness struct {
	t        testing.TB
	db       *sqlite.DB
	origins  *storeOrigins // the default httpapi.Options.Origins
	keys     *keys.Manager
	svc      *token.Service
	srv      *httpapi.Server
	clock    *clocktest.Clock
	logBuf   *testenv.Buffer
	accounts *account.Service
	clients  *client.Service // with registration only
	// userCodes hash the user codes of the device grant (harnessConfig.device).
	userCodes *device.Codes
}

// newHarness wires the real embedded store, key manager and token service
// behind the public handler.
// harnessConfig lets a test add collaborators (limits, guards) to the stack.
type harnessConfig struct {
	deps *token.Deps
	api  *httpapi.Options
	acct *account.Options
	now  func() time.Time
	// logTo receives the server log (default: the harness's logBuf).
	logTo io.Writer
	// login mounts the browser flow (login package) and turns on OIDC.
	login bool
	// par, with login, serves pushed authorization requests and request
	// objects (requirePAR: for every client).
	par, requirePAR bool
	// reuseGrace is token.Options.RefreshReuseGrace (0: off).
	reuseGrace time.Duration
	// registration serves dynamic client registration over a client.Service
	// on the harness store ("token" or "open"; "" none).
	registration string
	allowOpen    func(ctx context.Context, ip string) error
	// openSecret is token.Options.OpenSecret; secrets, when set, is given
	// the token service once built (assertion.Secrets).
	openSecret func(clientID string, sealed []byte) ([]byte, error)
	secrets    *lateSecrets
	// introspectionJWT serves RFC 9701 responses, signed by the token service.
	introspectionJWT bool
	// idTokenRS256 keeps id_token keys in RS256 besides ES256.
	idTokenRS256 bool
	// device serves the device authorization grant (RFC 8628) with user
	// codes under the harness's userCodes.
	device bool
	// sealKey is token.Options.SealKey: opaque access tokens are sealed.
	sealKey []byte
}

// lateSecrets is assertion.Secrets over the token service, built after the
// verifier that asks it.
type lateSecrets struct{ svc *token.Service }

func (l *lateSecrets) SecretFor(ctx context.Context, c *assertion.Client) ([]byte, error) {
	return l.svc.SecretFor(ctx, c)
}

// lateUserChanges hands account changes to the token service, which is
// built after the account service it reads users through.
type lateUserChanges struct{ svc *token.Service }

func (l *lateUserChanges) InvalidateUser(ctx context.Context, id string) error {
	return l.svc.InvalidateUser(ctx, id)
}

func newHarness(t testing.TB, configure ...func(*harnessConfig)) *harness {
	t.Helper()
	ctx := context.Background()
	db := dbtest.SQLite(t)
	clk := clocktest.New(time.Now().Truncate(time.Second))
	sealer, err := keys.NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}

	hasher := password.New(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, password.Limits{MaxConcurrent: 2})
	mem := memory.New(memory.Options{})
	t.Cleanup(mem.Close)
	origins := &storeOrigins{db: db}
	cfg := harnessConfig{
		deps: &token.Deps{Clients: db, Tokens: db, Revocations: db, Codes: db, Refresh: db, Cache: mem, Resources: db,
			TrustedIssuers: db, Users: db},
		api: &httpapi.Options{
			Issuer:       issuer,
			MaxBodyBytes: 16 << 10,
			Ready:        []httpapi.Check{{Name: "store", Fn: db.Ping}},
			Origins:      origins,
		},
		acct: &account.Options{Now: clk.Now},
		now:  clk.Now,
	}
	for _, c := range configure {
		c(&cfg)
	}
	purposes := []keys.Purpose{{Name: keys.PurposeAccess, Algorithm: keys.ES256}, {Name: keys.PurposeIDToken, Algorithm: keys.ES256}}
	if cfg.idTokenRS256 {
		purposes = append(purposes, keys.Purpose{Name: keys.PurposeIDToken, Algorithm: keys.RS256})
	}
	km, err := keys.NewManager(db, sealer, keys.Options{Purposes: purposes, Retain: 25 * time.Hour, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := km.Load(ctx); err != nil {
		t.Fatal(err)
	}
	cfg.deps.Signer = km
	changes := &lateUserChanges{}
	if cfg.acct.Changes == nil {
		cfg.acct.Changes = changes
	}
	acct := account.New(db, hasher, password.Policy{}, *cfg.acct)
	cfg.deps.Accounts = acct
	userCodes := device.NewCodes(make([]byte, 32), nil)
	if cfg.device {
		cfg.deps.Devices, cfg.deps.UserCodes = db, userCodes
	}
	svc := token.New(*cfg.deps,
		token.Options{Issuer: issuer, DefaultTTL: time.Hour, MaxTTL: 24 * time.Hour, Now: clk.Now, IDTokenAlg: keys.ES256,
			RefreshReuseGrace: cfg.reuseGrace, OpenSecret: cfg.openSecret, SealKey: cfg.sealKey})
	changes.svc = svc
	if cfg.secrets != nil {
		cfg.secrets.svc = svc
	}
	logBuf := &testenv.Buffer{}
	logTo := cfg.logTo
	if logTo == nil {
		logTo = logBuf
	}
	log := slog.New(slog.NewJSONHandler(logTo, nil))
	if cfg.login {
		deps := login.Deps{Clients: db, Accounts: acct, Sessions: db, Consents: db, Codes: db, IDTokens: km}
		if cfg.par {
			v, err := authzreq.NewVerifier(authzreq.Options{Issuer: issuer, Now: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			deps.RequestObjects, deps.Pushed = v, db
		}
		browser, err := login.New(deps,
			login.Options{Issuer: issuer, CSRFKey: make([]byte, 32), Logger: log, Now: clk.Now, RequirePAR: cfg.requirePAR})
		if err != nil {
			t.Fatal(err)
		}
		if cfg.par {
			cfg.api.PAR = &httpapi.PAR{Requests: browser, Required: cfg.requirePAR}
			cfg.api.RequestObjectAlgs = authzreq.Algorithms()
		}
		cfg.api.Mount, cfg.api.OIDC, cfg.api.IDTokenAlg = browser.Register, true, keys.ES256
		cfg.api.NotFoundPage = http.HandlerFunc(browser.NotFound)
	}
	if cfg.device {
		cfg.api.Device = svc
	}
	if cfg.introspectionJWT {
		cfg.api.SignIntrospection, cfg.api.IntrospectionAlg = svc.SignIntrospection, keys.ES256
	}
	var clients *client.Service
	if cfg.registration != "" {
		clients = client.New(db, client.Options{Grants: svc.Grants(), MaxTokenTTL: 24 * time.Hour, Now: clk.Now,
			Changed: svc.InvalidateClient, Events: cfg.deps.Events})
		cfg.api.Registration = &httpapi.Registration{Clients: clients, Open: cfg.registration == "open", AllowOpen: cfg.allowOpen}
	}
	srv := httpapi.New(svc, km, log, *cfg.api)
	return &harness{t: t, db: db, keys: km, svc: svc, srv: srv, origins: origins, clock: clk, logBuf: logBuf, accounts: acct, clients: clients,
		userCodes: userCodes}
}

// addClient registers a confidential client with a known secret.
func (h *harness) addClient(id, secret string, mod func(*oauth.Client)) *oauth.Client {
	h.t.Helper()
	sum := sha256.Sum256([]byte(secret))
	c := &oauth.Client{
		ID:                      id,
		SecretHash:              sum[:],
		Name:                    id,
		GrantTypes:              []string{oauth.GrantClientCredentials},
		Scopes:                  []string{"read", "write"},
		TokenEndpointAuthMethod: oauth.AuthMethodBasic,
		AccessTokenFormat:       oauth.FormatJWT,
		CreatedAt:               h.clock.Now(),
		UpdatedAt:               h.clock.Now(),
	}
	if mod != nil {
		mod(c)
	}
	if c.Public() {
		c.SecretHash = nil
	}
	if err := h.db.CreateClient(context.Background(), c); err != nil {
		h.t.Fatal(err)
	}
	return c
}

// storeOrigins is httpapi.Origins straight from the store (uncached);
// calls counts the questions, so a test can tell which origins reached it.
type storeOrigins struct {
	db    *sqlite.DB
	calls atomic.Int64
}

func (o *storeOrigins) OriginAllowed(ctx context.Context, origin string) (bool, error) {
	o.calls.Add(1)
	return o.db.OriginAllowed(ctx, origin)
}

type reqOpt func(*http.Request)

func withBasic(id, secret string) reqOpt {
	return func(r *http.Request) { r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret)) }
}

func withHeader(k, v string) reqOpt { return func(r *http.Request) { r.Header.Set(k, v) } }

// postForm sends an urlencoded body to path.
func (h *harness) postForm(path string, form url.Values, opts ...reqOpt) *httptest.ResponseRecorder {
	return h.do(http.MethodPost, path, "application/x-www-form-urlencoded", form.Encode(), opts...)
}

func (h *harness) do(method, path, contentType, body string, opts ...reqOpt) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	for _, o := range opts {
		o(r)
	}
	w := httptest.NewRecorder()
	h.srv.ServeHTTP(w, r)
	return w
}

// token gets an access token for client id/secret.
func (h *harness) token(id, secret string, extra url.Values) string {
	h.t.Helper()
	f := url.Values{"grant_type": {"client_credentials"}}
	for k, v := range extra {
		f[k] = v
	}
	w := h.postForm(httpapi.PathToken, f, withBasic(id, secret))
	if w.Code != http.StatusOK {
		h.t.Fatalf("token: %d %s", w.Code, w.Body)
	}
	var resp token.Response
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		h.t.Fatal(err)
	}
	return resp.AccessToken
}

func (h *harness) introspect(id, secret, tok string) map[string]any {
	h.t.Helper()
	w := h.postForm(httpapi.PathIntrospect, url.Values{"token": {tok}}, withBasic(id, secret))
	if w.Code != http.StatusOK {
		h.t.Fatalf("introspect: %d %s", w.Code, w.Body)
	}
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		h.t.Fatal(err)
	}
	return m
}

func decodeJSON(t testing.TB, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("body %q: %v", b, err)
	}
	return m
}

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if string(want) != string(got) {
		t.Errorf("%s differs:\n got: %s\nwant: %s", name, got, want)
	}
}
