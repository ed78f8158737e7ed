package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/authd/authd/internal/testenv"

	jose "github.com/go-jose/go-jose/v4"
)

// workDir holds what TestMain's tests build (the authd binary).
var workDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "authd-interop-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	workDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

var build struct {
	once sync.Once
	bin  string
	err  error
}

// authdBinary builds cmd/authd once per test binary: the clients talk to the
// real program, started the way an operator starts it.
func authdBinary(t *testing.T) string {
	t.Helper()
	build.once.Do(func() {
		bin := filepath.Join(workDir, "authd")
		out, err := exec.Command("go", "build", "-o", bin, "github.com/authd/authd/cmd/authd").CombinedOutput()
		if err != nil {
			build.err = fmt.Errorf("go build ./cmd/authd: %v\n%s", err, out)
			return
		}
		build.bin = bin
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.bin
}

// skipShort skips in -short mode: these tests start several processes.
func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts authd and an external client as processes")
	}
}

// unavailable skips (locally) or fails (CI) a test whose external client is
// not installed.
func unavailable(t *testing.T, what string) {
	t.Helper()
	msg := what + " is not installed: run interop/install.sh"
	if testenv.RequireServers() {
		t.Fatal(msg + " (AUTHD_REQUIRE_SERVERS=1 forbids skipping)")
	}
	t.Skip(msg + "; skipping")
}

func cacheDir() string {
	if d := os.Getenv("AUTHD_INTEROP_CACHE"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "authd-interop")
	}
	return filepath.Join(home, ".cache", "authd-interop")
}

// version reads a pinned version from versions.env, which install.sh sources.
func version(t *testing.T, key string) string {
	t.Helper()
	b, err := os.ReadFile("versions.env")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok && k == key {
			return v
		}
	}
	t.Fatalf("versions.env has no %s", key)
	return ""
}

// nodeScript returns the node binary and checks that the npm packages are
// installed in js/node_modules.
func nodeScript(t *testing.T, packages ...string) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		unavailable(t, "node")
	}
	for _, p := range packages {
		if _, err := os.Stat(filepath.Join("js", "node_modules", p, "package.json")); err != nil {
			unavailable(t, "the npm package "+p)
		}
	}
	return node
}

// env is the environment of a child process: this one's, without AUTHD_
// settings a developer may have exported, plus extra.
func env(extra map[string]string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AUTHD_") {
			out = append(out, kv)
		}
	}
	for k, v := range extra {
		out = append(out, k+"="+v)
	}
	return out
}

// proc is a child process whose output (stdout and stderr, line by line) is
// kept for failure messages and shown to line.
type proc struct {
	name string
	cmd  *exec.Cmd
	logs *testenv.Buffer
	done chan struct{} // closed when the process has exited

	mu      sync.Mutex
	waiters map[*waiter]struct{}
}

type waiter struct {
	match func(line string) bool
	seen  chan struct{}
}

// startProc starts cmd, calling line for every output line, and stops it
// (SIGTERM, then SIGKILL after 20 s) when the test ends.
func startProc(t *testing.T, name string, cmd *exec.Cmd, line func(string)) *proc {
	t.Helper()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	pw.Close()
	p := &proc{name: name, cmd: cmd, logs: &testenv.Buffer{}, done: make(chan struct{})}
	go func() {
		defer pr.Close()
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			_, _ = p.logs.Write(append(sc.Bytes(), '\n'))
			if line != nil {
				line(sc.Text())
			}
			p.notify(sc.Text())
		}
	}()
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.stop(t) })
	return p
}

func (p *proc) notify(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for w := range p.waiters {
		if w.match(line) {
			close(w.seen)
			delete(p.waiters, w)
		}
	}
}

// waitOutput reports whether the process prints a line containing substr
// (or already has) within timeout.
func (p *proc) waitOutput(substr string, timeout time.Duration) bool {
	return p.waitLine(func(l string) bool { return strings.Contains(l, substr) }, timeout)
}

// waitLine reports whether the process prints a line that matches (or already
// has) within timeout: its output is read concurrently, so the line about a
// request may come after the response.
func (p *proc) waitLine(match func(line string) bool, timeout time.Duration) bool {
	w := &waiter{match: match, seen: make(chan struct{})}
	p.mu.Lock()
	if p.waiters == nil {
		p.waiters = map[*waiter]struct{}{}
	}
	p.waiters[w] = struct{}{}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.waiters, w)
		p.mu.Unlock()
	}()
	// Registered first, so a line written from now on is notified and one
	// written before is in the buffer.
	for _, l := range strings.Split(p.logs.String(), "\n") {
		if match(l) {
			return true
		}
	}
	select {
	case <-w.seen:
		return true
	case <-time.After(timeout):
		return false
	}
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *proc) stop(t *testing.T) {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Errorf("%s did not stop on SIGTERM; killing it", p.name)
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// authd is one `authd serve` process on port 0 with an embedded store.
type authd struct {
	*proc
	public, admin string
	adminToken    string
}

const adminToken = "interop-admin-token-0123456789abcdef0123"

func startAuthd(t *testing.T, extra map[string]string) *authd {
	t.Helper()
	settings := map[string]string{
		"AUTHD_DATA_DIR":          t.TempDir(),
		"AUTHD_ADMIN_TOKEN":       adminToken,
		"AUTHD_ARGON2_MEMORY_KIB": "8192",
		"AUTHD_ARGON2_TIME":       "1",
		"AUTHD_ACCESS_LOG":        "true",
	}
	for k, v := range extra {
		settings[k] = v
	}
	cmd := exec.Command(authdBinary(t), "serve")
	cmd.Env = env(settings)
	socks := testenv.Activate(t, cmd)
	a := &authd{adminToken: adminToken, public: socks.Public, admin: socks.Admin}
	a.proc = startProc(t, "authd", cmd, nil)
	socks.Started()
	// Answered once authd serves: the request waits in the socket's queue
	// until then, and is refused if authd exits instead.
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Get(a.public + "/healthz")
	if err != nil {
		t.Fatalf("authd did not start: %v\n%s", err, a.logs)
	}
	resp.Body.Close()
	return a
}

// waitAccessLog reports whether authd logs a request (AUTHD_ACCESS_LOG) to
// route whose line matches, within 10 s.
func (a *authd) waitAccessLog(route string, match func(map[string]any) bool) bool {
	return a.waitLine(func(line string) bool {
		var m map[string]any
		return json.Unmarshal([]byte(line), &m) == nil && m["route"] == route && match(m)
	}, 10*time.Second)
}

func (a *authd) adminDo(t *testing.T, method, path string, body any) map[string]any {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.admin+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+a.adminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	var m map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
	return m
}

// createUser creates an account through the admin API and returns its id; a
// verified address is marked so with PATCH, as an operator would.
func (a *authd) createUser(t *testing.T, username, password, email string, verified bool) string {
	t.Helper()
	u := a.adminDo(t, http.MethodPost, "/admin/users", map[string]any{"username": username, "password": password, "email": email})
	id, _ := u["id"].(string)
	if id == "" {
		t.Fatalf("POST /admin/users: no id in %v", u)
	}
	if verified {
		if u := a.adminDo(t, http.MethodPatch, "/admin/users/"+id, map[string]any{"email_verified": true}); u["email_verified"] != true {
			t.Fatalf("PATCH email_verified: %v", u)
		}
	}
	return id
}

// createClient registers a client (RFC 7591 metadata) and returns the answer,
// with client_id and, for a confidential client, client_secret.
func (a *authd) createClient(t *testing.T, meta map[string]any) (id, secret string) {
	t.Helper()
	c := a.adminDo(t, http.MethodPost, "/admin/clients", meta)
	id, _ = c["client_id"].(string)
	secret, _ = c["client_secret"].(string)
	if id == "" {
		t.Fatalf("POST /admin/clients: no client_id in %v", c)
	}
	return id, secret
}

// browser is an HTTP client with a cookie jar that follows redirects, as a
// user agent does (Go's jar, like browsers, sends Secure cookies to loopback
// over http).
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		b.t.Fatal(err)
	}
	return resp, string(body)
}

func (b *browser) get(u string) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// submit sends form the way a browser submits it: resolved against the page's
// URL, GET as a query, POST as a urlencoded body.
func (b *browser) submit(page *url.URL, f form) (*http.Response, string) {
	b.t.Helper()
	target, err := page.Parse(f.action)
	if err != nil {
		b.t.Fatal(err)
	}
	var req *http.Request
	if strings.EqualFold(f.method, http.MethodPost) {
		req, err = http.NewRequest(http.MethodPost, target.String(), strings.NewReader(f.fields.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", page.Scheme+"://"+page.Host)
		}
	} else {
		target.RawQuery = f.fields.Encode()
		req, err = http.NewRequest(http.MethodGet, target.String(), nil)
	}
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// form is an HTML form: where it goes and its hidden inputs.
type form struct {
	action, method string
	fields         url.Values
}

var (
	formRE   = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	attrRE   = regexp.MustCompile(`(?is)\b(action|method|type|name|value)\s*=\s*"([^"]*)"`)
	inputRE  = regexp.MustCompile(`(?is)<input\b[^>]*>`)
	buttonRE = regexp.MustCompile(`(?is)<button\b[^>]*>`)
)

func attrs(tag string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRE.FindAllStringSubmatch(tag, -1) {
		m[strings.ToLower(a[1])] = html.UnescapeString(a[2])
	}
	return m
}

// forms reads the page's forms with their hidden inputs (enough for the pages
// of authd and oauth2-proxy, which are server-rendered templates).
func forms(page string) []form {
	var out []form
	for _, m := range formRE.FindAllStringSubmatch(page, -1) {
		fa := attrs(m[1])
		f := form{action: fa["action"], method: fa["method"], fields: url.Values{}}
		if f.method == "" {
			f.method = http.MethodGet
		}
		for _, in := range inputRE.FindAllString(m[2], -1) {
			if ia := attrs(in); ia["type"] == "hidden" && ia["name"] != "" {
				f.fields.Add(ia["name"], ia["value"])
			}
		}
		out = append(out, f)
	}
	return out
}

// formTo returns the page's form whose action ends in suffix.
func formTo(t *testing.T, page, suffix string) form {
	t.Helper()
	for _, f := range forms(page) {
		if strings.HasSuffix(strings.SplitN(f.action, "?", 2)[0], suffix) {
			return f
		}
	}
	t.Fatalf("no form to %s in:\n%s", suffix, page)
	return form{}
}

// hasButton reports whether the page has a submit button with that name and value.
func hasButton(page, name, value string) bool {
	for _, b := range buttonRE.FindAllString(page, -1) {
		if a := attrs(b); a["name"] == name && a["value"] == value {
			return true
		}
	}
	return false
}

// runNode runs a script in js/ with node and decodes the JSON it prints last.
// If it outlives timeout its process group gets SIGTERM (on which Playwright
// closes the browser it started, which runs in a group of its own), and node
// SIGKILL 5 s later.
func runNode(t *testing.T, node string, timeout time.Duration, script string, arg any, out any) {
	t.Helper()
	spec, err := json.Marshal(arg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script, string(spec))
	cmd.Dir = "js"
	cmd.Env = env(nil)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("node %s did not finish in %v\nstdout:\n%s\nstderr:\n%s", script, timeout, stdout.String(), stderr.String())
	}
	if err != nil {
		t.Fatalf("node %s: %v\nstdout:\n%s\nstderr:\n%s", script, err, stdout.String(), stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), out); err != nil {
		t.Fatalf("node %s printed no JSON result (%v)\nstdout:\n%s\nstderr:\n%s", script, err, stdout.String(), stderr.String())
	}
	if stderr.Len() > 0 {
		t.Logf("node %s stderr:\n%s", script, stderr.String())
	}
}

// jwkOf is an ES256 signing key k (private or public) as the JWK a script
// imports.
func jwkOf(t *testing.T, k any, kid string) map[string]any {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKey{Key: k, KeyID: kid, Algorithm: "ES256", Use: "sig"})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}
