// Package deploy_test checks what deploy/ ships against the authd it ships:
// every series a Grafana panel or an alert rule uses is one a running authd
// exports (with the labels and label values the query expects), the
// healthcheck probe works against a real authd, and the settings the compose
// file and the systemd unit pass are settings authd knows.
//
// It builds authd from this tree, starts it on 127.0.0.1:0 (embedded store in
// a temporary folder; and on PostgreSQL and Redis when AUTHD_TEST_POSTGRES_URL
// and AUTHD_TEST_REDIS_URL are set), makes the requests after which every
// lazily created series exists, and scrapes the admin listener's /metrics.
package deploy_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/internal/testenv/redistest"
)

// binDir holds the binaries the tests build, once per run.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "authd-deploy-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var builds sync.Map // package path -> *build

type build struct {
	once sync.Once
	path string
	err  error
}

// binary builds the main package pkg (relative to the module root, e.g.
// ./cmd/authd) once for the whole run and returns the executable's path.
func binary(t *testing.T, pkg string) string {
	t.Helper()
	v, _ := builds.LoadOrStore(pkg, &build{})
	b := v.(*build)
	b.once.Do(func() {
		b.path = filepath.Join(binDir, filepath.Base(pkg))
		// No symbol table or DWARF: linking without them takes about 40 % less CPU.
		cmd := exec.Command("go", "build", "-ldflags=-s -w", "-o", b.path, pkg)
		cmd.Dir = ".." // the module root: this file is in deploy/
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// server is one authd serve process this test started.
type server struct {
	public, admin string
	adminToken    string
	http          *http.Client
}

func randomString(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// startAuthd runs authd serve with env (AUTHD_* settings; the listeners and
// data folder are set here) and stops it with SIGTERM when t ends.
func startAuthd(t *testing.T, env ...string) *server {
	t.Helper()
	s := &server{adminToken: randomString(t, 32), http: &http.Client{Timeout: 10 * time.Second}}
	cmd := exec.Command(binary(t, "./cmd/authd"), "serve")
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"AUTHD_DATA_DIR=" + t.TempDir(),
		"AUTHD_ADMIN_TOKEN=" + s.adminToken,
		"AUTHD_ACCESS_LOG=false",
		// Cheap hashes: the password grant below only has to run one.
		"AUTHD_ARGON2_MEMORY_KIB=8192",
		"AUTHD_ARGON2_TIME=1",
	}, env...)
	// authd gets its sockets as systemd would hand them over, so their
	// addresses are known before it starts.
	socks := testenv.Activate(t, cmd)
	s.public, s.admin = socks.Public, socks.Admin
	logs := &testenv.Buffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	socks.Started()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("authd serve did not stop cleanly: %v", err)
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			t.Error("authd serve did not stop within 30 s of SIGTERM")
		}
		if t.Failed() {
			t.Logf("authd's log:\n%s", logs.String())
		}
	})
	// Answered once authd serves (the request waits in the socket's queue
	// until then), refused if it exits instead.
	ready := &http.Client{Timeout: 60 * time.Second}
	resp, err := ready.Get(s.public + "/healthz")
	if err != nil {
		t.Fatalf("authd serve did not start: %v", err)
	}
	resp.Body.Close()
	return s
}

// call makes one request and returns the status and body. form bodies are
// url.Values; JSON bodies anything else.
func (s *server) call(t *testing.T, method, rawURL string, body any, auth func(*http.Request)) (int, []byte) {
	t.Helper()
	var r io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		r, ctype = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r, ctype = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequest(method, rawURL, r)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if auth != nil {
		auth(req)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	return resp.StatusCode, out
}

func (s *server) adminAuth(r *http.Request) { r.Header.Set("Authorization", "Bearer "+s.adminToken) }

func basic(id, secret string) func(*http.Request) {
	return func(r *http.Request) { r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret)) }
}

// expect fails unless the status is want.
func expect(t *testing.T, what string, status int, body []byte, want int) {
	t.Helper()
	if status != want {
		t.Fatalf("%s: status %d, want %d: %s", what, status, want, body)
	}
}

// exercise makes the requests after which every series the dashboards and
// alerts may read exists: one of every route they name, a cache miss and hit
// of each token format, a failed client authentication, a refused grant (and
// so a password hash) and a refused login form.
func exercise(t *testing.T, s *server) {
	t.Helper()
	type client struct{ id, secret string }
	newClient := func(format string) client {
		status, body := s.call(t, "POST", s.admin+"/admin/clients", map[string]any{
			"client_name": "deploy test " + format, "scope": "read",
			"grant_types":         []string{"client_credentials", "password"},
			"access_token_format": format,
		}, s.adminAuth)
		expect(t, "create a client", status, body, http.StatusCreated)
		var c struct {
			ID     string `json:"client_id"`
			Secret string `json:"client_secret"`
		}
		if err := json.Unmarshal(body, &c); err != nil || c.ID == "" || c.Secret == "" {
			t.Fatalf("create a client: %v: %s", err, body)
		}
		return client{c.ID, c.Secret}
	}
	token := func(c client) string {
		status, body := s.call(t, "POST", s.public+"/oauth2/token",
			url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}, basic(c.id, c.secret))
		expect(t, "client_credentials", status, body, http.StatusOK)
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
			t.Fatalf("client_credentials: %v: %s", err, body)
		}
		return tok.AccessToken
	}

	jwtClient, opaqueClient := newClient("jwt"), newClient("opaque")
	jwt, opaque := token(jwtClient), token(opaqueClient)
	for range 2 { // a miss, then a hit
		for _, tok := range []string{jwt, opaque} {
			status, body := s.call(t, "POST", s.public+"/oauth2/introspect", url.Values{"token": {tok}}, basic(jwtClient.id, jwtClient.secret))
			expect(t, "introspect", status, body, http.StatusOK)
			if !bytes.Contains(body, []byte(`"active":true`)) {
				t.Fatalf("introspect: %s", body)
			}
		}
	}
	status, body := s.call(t, "POST", s.public+"/oauth2/introspect/batch", map[string]any{"tokens": []string{jwt, opaque}}, basic(jwtClient.id, jwtClient.secret))
	expect(t, "batch introspection", status, body, http.StatusOK)
	status, body = s.call(t, "POST", s.public+"/oauth2/revoke", url.Values{"token": {opaque}}, basic(opaqueClient.id, opaqueClient.secret))
	expect(t, "revoke", status, body, http.StatusOK)

	status, body = s.call(t, "POST", s.public+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, basic(jwtClient.id, "wrong"))
	expect(t, "a wrong client secret", status, body, http.StatusUnauthorized)
	status, body = s.call(t, "POST", s.public+"/oauth2/token",
		url.Values{"grant_type": {"password"}, "username": {"nobody"}, "password": {"not the password"}}, basic(jwtClient.id, jwtClient.secret))
	expect(t, "the password grant for an unknown user", status, body, http.StatusBadRequest)
	status, body = s.call(t, "GET", s.public+"/login", nil, nil)
	expect(t, "the login form", status, body, http.StatusOK)
	status, body = s.call(t, "POST", s.public+"/login", url.Values{"username": {"nobody"}, "password": {"x"}}, nil)
	expect(t, "a login without its form's CSRF token", status, body, http.StatusForbidden)
	status, body = s.call(t, "GET", s.admin+"/admin/clients", nil, nil)
	expect(t, "the admin API without its token", status, body, http.StatusUnauthorized)

	for _, path := range []string{"/oauth2/jwks", "/.well-known/openid-configuration", "/healthz", "/readyz"} {
		status, body := s.call(t, "GET", s.public+path, nil, nil)
		expect(t, path, status, body, http.StatusOK)
	}
}

// scrape reads the admin listener's /metrics twice, so the first scrape is
// counted among the requests the second one reports.
func (s *server) scrape(t *testing.T) exposition {
	t.Helper()
	var body []byte
	for range 2 {
		var status int
		status, body = s.call(t, "GET", s.admin+"/metrics", nil, nil)
		expect(t, "GET /metrics", status, body, http.StatusOK)
	}
	exp, err := parseExposition(string(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return exp
}

func checkAgainst(t *testing.T, sh shape, env ...string) {
	qs := loadQueries(t)
	s := startAuthd(t, env...)
	exercise(t, s)
	exp := s.scrape(t)
	for _, p := range checkQueries(qs, exp, sh) {
		t.Error(p)
	}
}

// TestDashboardAndAlertsUseExportedMetrics checks every query of
// grafana/authd.json and prometheus/alerts.yaml against the embedded
// deployment; Redis-only series are checked by the test below.
func TestDashboardAndAlertsUseExportedMetrics(t *testing.T) {
	t.Parallel()
	checkAgainst(t, embedded)
}

// TestDashboardAndAlertsUseExportedMetricsWithRedis is the same check against
// PostgreSQL and Redis, where the Redis series and tiers exist.
func TestDashboardAndAlertsUseExportedMetricsWithRedis(t *testing.T) {
	t.Parallel()
	pgURL := testenv.PostgresURL(t)
	redisURL, prefix := redistest.Setup(t)
	checkAgainst(t, withRedis,
		"AUTHD_DATABASE_URL="+pgURL,
		"AUTHD_MASTER_KEY="+randomString(t, 32),
		"AUTHD_REDIS_URL="+redisURL,
		"AUTHD_REDIS_PREFIX="+prefix,
	)
}

// TestCheckQueriesFindsMistakes proves the check can fail: a misspelt metric,
// a label the series lacks, a route authd does not have, grouping by a label
// nobody has and buckets summed without le are all reported, and a Redis-only
// series is excused on the embedded store only.
func TestCheckQueriesFindsMistakes(t *testing.T) {
	exp, err := parseExposition(`# TYPE authd_http_requests_total counter
authd_http_requests_total{code="200",listener="public",route="POST /oauth2/token"} 3
authd_http_request_duration_seconds_bucket{listener="public",route="POST /oauth2/token",le="+Inf"} 3
authd_cache_hits_total{kind="client",tier="memory"} 1
authd_ratelimit_decisions_total{limiter="memory",result="allowed"} 1
`)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		expr    string
		shape   shape
		wantErr string // "" = no problem with the query itself
	}{
		{name: "exported", expr: `sum by (route) (rate(authd_http_requests_total{route="POST /oauth2/token"}[5m]))`, shape: embedded},
		{name: "misspelt metric", expr: `rate(authd_http_request_total[5m])`, shape: embedded, wantErr: "not exported"},
		{name: "histogram family without suffix", expr: `authd_http_request_duration_seconds`, shape: embedded, wantErr: "not exported"},
		{name: "missing label", expr: `authd_http_requests_total{status="200"}`, shape: embedded, wantErr: `no label "status"`},
		{name: "unknown route", expr: `authd_http_requests_total{route="/oauth2/token"}`, shape: embedded, wantErr: "no such value"},
		{name: "grafana variable value", expr: `authd_http_requests_total{route=~"$route", listener="$listener"}`, shape: embedded},
		{name: "grouping by a label nobody has", expr: `sum by (path) (authd_http_requests_total)`, shape: embedded, wantErr: `groups by "path"`},
		{name: "buckets without le", expr: `histogram_quantile(0.9, sum by (route) (rate(authd_http_request_duration_seconds_bucket[5m])))`, shape: embedded, wantErr: "without keeping le"},
		{name: "redis-only series on the embedded store", expr: `authd_cache_redis_up == 0`, shape: embedded},
		{name: "redis-only value on the embedded store", expr: `authd_cache_hits_total{tier="redis"}`, shape: embedded},
		{name: "redis-only series missing with redis", expr: `authd_cache_redis_up == 0`, shape: withRedis, wantErr: "not exported"},
		{name: "scrape series", expr: `up{job="authd"} == 0`, shape: embedded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			refs, err := scanPromQL(tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range checkQueries([]query{{where: "q", expr: tc.expr, refs: refs}}, exp, tc.shape) {
				if !strings.HasPrefix(p, "onlyIn:") { // this exposition is no real authd's
					got = append(got, p)
				}
			}
			switch {
			case tc.wantErr == "" && len(got) > 0:
				t.Errorf("problems %q, want none", got)
			case tc.wantErr != "" && (len(got) != 1 || !strings.Contains(got[0], tc.wantErr)):
				t.Errorf("problems %q, want one containing %q", got, tc.wantErr)
			}
		})
	}
}

// TestHealthcheck runs the container probe (deploy/healthcheck) against a real
// authd: 0 while it is ready, 1 for an address where nothing answers.
func TestHealthcheck(t *testing.T) {
	t.Parallel()
	probe := binary(t, "./deploy/healthcheck")
	s := startAuthd(t)
	run := func(url string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, probe, url).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%w: %s", err, out)
		}
		return nil
	}
	if err := run(s.public + "/readyz"); err != nil {
		t.Errorf("healthcheck against a ready authd: %v", err)
	}
	var exitErr *exec.ExitError
	if err := run("http://127.0.0.1:1/readyz"); !errors.As(err, &exitErr) {
		t.Errorf("healthcheck against a closed port: %v, want exit status 1", err)
	}
	// /metrics is on the admin listener; the public one answers 404 for it.
	if err := run(s.public + "/metrics"); !errors.As(err, &exitErr) {
		t.Errorf("healthcheck against a 404: %v, want exit status 1", err)
	}
}
