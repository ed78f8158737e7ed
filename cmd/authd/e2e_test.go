package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/internal/store/sqlite"
	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/internal/testenv/redistest"
)

// server is a running `authd serve` started through run, as main would.
type server struct {
	public, admin string
	env           map[string]string
	done          chan error
	cancel        context.CancelFunc
	logs          *syncBuffer
}

type syncBuffer = testenv.Buffer

func (s *server) getenv(k string) string { return s.env[k] }

// startServer runs serve on port 0 in process and asks it which addresses
// it bound.
func startServer(t *testing.T, env map[string]string) *server {
	t.Helper()
	base := map[string]string{
		"AUTHD_LISTEN":       "127.0.0.1:0",
		"AUTHD_ADMIN_LISTEN": "127.0.0.1:0",
		"AUTHD_DATA_DIR":     t.TempDir(),
	}
	for k, v := range env {
		base[k] = v
	}
	s := &server{env: base, done: make(chan error, 1), logs: &syncBuffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := start(ctx, nil, s.getenv, s.logs)
	if err != nil {
		cancel()
		t.Fatalf("serve did not start: %v\n%s", err, s.logs.String())
	}
	s.cancel = cancel
	s.public, s.admin = a.publicURL(), a.adminURL()
	go func() { s.done <- a.wait(ctx) }()
	t.Cleanup(func() { s.stop(t) })
	return s
}

func (s *server) stop(t *testing.T) {
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("serve returned %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("serve did not stop")
	}
}

// cli runs "authd cmd sub [flags]" against s's admin API and returns its stdout.
func (s *server) cli(t *testing.T, cmd, sub string, rest ...string) []byte {
	t.Helper()
	var out, errOut bytes.Buffer
	args := append([]string{cmd, sub, "--admin-url", s.admin}, rest...)
	if err := run(context.Background(), args, s.getenv, strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatalf("authd %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.Bytes()
}

func postForm(t *testing.T, u, id, secret string, form url.Values) (int, map[string]any) {
	t.Helper()
	code, m, err := tryPostForm(u, id, secret, form)
	if err != nil {
		t.Fatal(err)
	}
	return code, m
}

// tryPostForm is postForm for goroutines: it returns transport errors.
func tryPostForm(u, id, secret string, form url.Values) (int, map[string]any, error) {
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	return resp.StatusCode, m, nil
}

func TestEndToEnd(t *testing.T) {
	s := startServer(t, nil)

	// The database file is readable by authd's user only.
	if fi, err := os.Stat(filepath.Join(s.env["AUTHD_DATA_DIR"], SQLiteFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("database file mode: %v %v", fi.Mode(), err)
	}
	// The admin token was generated into the data folder, 0600; its value is never logged.
	tokPath := filepath.Join(s.env["AUTHD_DATA_DIR"], "admin-token")
	fi, err := os.Stat(tokPath)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin token file: %v %v", fi, err)
	}
	adminTok, _ := os.ReadFile(tokPath)
	if strings.Contains(s.logs.String(), strings.TrimSpace(string(adminTok))) {
		t.Fatal("the admin token was logged")
	}

	for _, format := range []string{"jwt", "opaque"} {
		t.Run(format, func(t *testing.T) {
			var created map[string]any
			if err := json.Unmarshal(s.cli(t, "client", "create", "--name", "e2e", "--scope", "read write", "--format", format), &created); err != nil {
				t.Fatal(err)
			}
			id, secret := created["client_id"].(string), created["client_secret"].(string)

			code, tok := postForm(t, s.public+"/oauth2/token", id, secret, url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}})
			if code != 200 {
				t.Fatalf("token: %d %v", code, tok)
			}
			access := tok["access_token"].(string)
			if format == "jwt" {
				verifyAgainstJWKS(t, s.public, access)
			}
			code, info := postForm(t, s.public+"/oauth2/introspect", id, secret, url.Values{"token": {access}})
			if code != 200 || info["active"] != true || info["scope"] != "read" || info["client_id"] != id {
				t.Fatalf("introspect: %d %v", code, info)
			}
			if code, _ := postForm(t, s.public+"/oauth2/revoke", id, secret, url.Values{"token": {access}}); code != 200 {
				t.Fatalf("revoke: %d", code)
			}
			code, info = postForm(t, s.public+"/oauth2/introspect", id, secret, url.Values{"token": {access}})
			if code != 200 || info["active"] != false {
				t.Fatalf("introspect after revoke: %d %v", code, info)
			}
		})
	}

	list := string(s.cli(t, "client", "list"))
	if strings.Count(list, "e2e") != 2 {
		t.Fatalf("client list:\n%s", list)
	}
	var rotated map[string]any
	if err := json.Unmarshal(s.cli(t, "keys", "rotate"), &rotated); err != nil || rotated["kid"] == "" {
		t.Fatalf("keys rotate: %v %v", rotated, err)
	}

	// Metrics on the admin listener, by route pattern.
	resp, err := http.Get(s.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`authd_http_requests_total{code="200",listener="public",route="POST /oauth2/token"} 2`,
		`authd_cache_hit_ratio{`,
		`authd_password_hashes_in_flight 0`,
		`authd_security_events_emitted_total`,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// A graceful stop flushes the audit trail; nothing queued is lost.
	s.stop(t)
	st, err := sqlite.Open(context.Background(), filepath.Join(s.env["AUTHD_DATA_DIR"], SQLiteFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs, err := st.AuditEvents(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, e := range evs {
		// An aggregate row (token events, AUTHD_AUDIT_TOKEN_EVENTS) stands
		// for its count.
		var d map[string]string
		_ = json.Unmarshal([]byte(e.Detail), &d)
		n, err := strconv.Atoi(d["count"])
		if err != nil {
			n = 1
		}
		seen[e.Type] += n
		if strings.Contains(e.Detail, "secret") {
			t.Fatalf("audit row mentions a secret: %+v", e)
		}
	}
	for typ, n := range map[string]int{"admin.client_created": 2, "token.issued": 2, "token.revoked": 2, "admin.key_rotated": 1} {
		if seen[typ] != n {
			t.Errorf("audit trail has %d %s, want %d (all: %v)", seen[typ], typ, n, seen)
		}
	}

	var out bytes.Buffer
	if err := run(context.Background(), []string{"janitor"}, s.getenv, strings.NewReader(""), &out, io.Discard); err != nil || !strings.HasPrefix(out.String(), "deleted ") {
		t.Fatalf("authd janitor: %v %q", err, out.String())
	}
}

// verifyAgainstJWKS does what a resource server does with a standard JOSE
// library: fetch the JWKS over HTTP and verify the token's signature.
func verifyAgainstJWKS(t *testing.T, base, tok string) {
	t.Helper()
	resp, err := http.Get(base + "/oauth2/jwks")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	ks := set.Key(jws.Signatures[0].Header.KeyID)
	if len(ks) != 1 {
		t.Fatal("kid not in JWKS")
	}
	if _, err := jws.Verify(ks[0]); err != nil {
		t.Fatalf("signature: %v", err)
	}
}

func TestServeOnPostgres(t *testing.T) {
	pg := testenv.PostgresURL(t)
	s := startServer(t, map[string]string{
		"AUTHD_DATABASE_URL": pg,
		"AUTHD_MASTER_KEY":   "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=",
	})
	var created map[string]any
	if err := json.Unmarshal(s.cli(t, "client", "create", "--format", "opaque"), &created); err != nil {
		t.Fatal(err)
	}
	code, tok := postForm(t, s.public+"/oauth2/token", created["client_id"].(string), created["client_secret"].(string), url.Values{"grant_type": {"client_credentials"}})
	if code != 200 || tok["access_token"] == nil {
		t.Fatalf("token: %d %v", code, tok)
	}
}

func TestConfigErrorStopsStartup(t *testing.T) {
	tests := []struct {
		env     map[string]string
		wantKey string
	}{
		{map[string]string{"AUTHD_LISTEN": "nonsense"}, "AUTHD_LISTEN"},
		// Valid numbers that make an unusable limit must not mean "no limit".
		{map[string]string{"AUTHD_LOCKOUT_INTERVAL": "500ns"}, "AUTHD_LOCKOUT_INTERVAL"},
		{map[string]string{"AUTHD_LOCKOUT_INTERVAL": "10000000h", "AUTHD_LOCKOUT_FAILURES": "100"}, "AUTHD_LOCKOUT_INTERVAL"},
	}
	for _, tc := range tests {
		var errOut bytes.Buffer
		env := map[string]string{"AUTHD_DATA_DIR": t.TempDir(), "AUTHD_LISTEN": "127.0.0.1:0", "AUTHD_ADMIN_LISTEN": "127.0.0.1:0"}
		for k, v := range tc.env {
			env[k] = v
		}
		err := run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, strings.NewReader(""), io.Discard, &errOut)
		if err == nil || !strings.Contains(err.Error(), tc.wantKey) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: err = %v", tc.env, err)
		}
	}
}

// A second serve on the same SQLite data folder refuses to start, in one
// line, instead of serving answers that disagree with the first's.
func TestSecondServeOnDataDirRefused(t *testing.T) {
	first := startServer(t, nil)
	var stderr bytes.Buffer
	env := map[string]string{}
	for k, v := range first.env {
		env[k] = v
	}
	err := run(t.Context(), []string{"serve"}, func(k string) string { return env[k] }, strings.NewReader(""), io.Discard, &stderr)
	if err == nil || !strings.Contains(err.Error(), "already serving from "+env["AUTHD_DATA_DIR"]) ||
		!strings.Contains(err.Error(), "pid") {
		t.Fatalf("second serve on one data folder: %v\n%s", err, stderr.String())
	}
	// The first still serves.
	if code, _ := readyz(t, first.public); code != 200 {
		t.Fatalf("first server after the refused second: %d", code)
	}
}

// An operator sees one line per dependency at start: the store (where, never
// credentials), Redis reachable or not, and the listeners.
func TestStartupLines(t *testing.T) {
	pg := testenv.PostgresURL(t)
	u, err := url.Parse(pg)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), "hunter2-not-logged")
	redisURL, prefix := redistest.Setup(t)
	s := startServer(t, map[string]string{
		"AUTHD_DATABASE_URL": u.String(),
		"AUTHD_MASTER_KEY":   "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=",
		"AUTHD_REDIS_URL":    redisURL,
		"AUTHD_REDIS_PREFIX": prefix,
	})
	logs := s.logs.String()
	for _, want := range []string{`"msg":"store open","store":"postgres"`, `"msg":"redis reachable"`, `"msg":"listening"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("start-up log lacks %s:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "hunter2-not-logged") {
		t.Fatalf("a credential reached the log:\n%s", logs)
	}
}
