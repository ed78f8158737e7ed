package interop

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// oauth2Proxy is an oauth2-proxy process in front of an upstream.
type oauth2Proxy struct {
	*proc
	url string
}

// startOAuth2Proxy runs oauth2-proxy with its defaults but for what the
// deployment must say (provider, issuer, client, redirect URL, cookie secret,
// allowed e-mail domains, upstream, listener) and PKCE with S256, which authd
// requires of every client.
func startOAuth2Proxy(t *testing.T, bin string, ln net.Listener, issuer, clientID, secret, upstream string) *oauth2Proxy {
	t.Helper()
	proxyURL := "http://" + ln.Addr().String()
	// The listener is handed over as systemd socket activation does (fd 3,
	// LISTEN_PID, LISTEN_FDS): the port is ours before oauth2-proxy starts,
	// so the redirect URI registered in authd is right and no port can race.
	lf, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	ln.Close()
	cookieSecret := make([]byte, 16)
	_, _ = rand.Read(cookieSecret)
	args := []string{
		"--provider=oidc",
		"--oidc-issuer-url=" + issuer,
		"--client-id=" + clientID,
		"--client-secret=" + secret,
		"--redirect-url=" + proxyURL + "/oauth2/callback",
		"--cookie-secret=" + hex.EncodeToString(cookieSecret), // 32 bytes
		"--email-domain=*",
		"--upstream=" + upstream,
		"--http-address=fd:3",
		"--code-challenge-method=S256",
	}
	cmd := exec.Command("/bin/sh", append([]string{"-c", `LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" "$@"`, bin}, args...)...)
	cmd.Env = env(nil)
	cmd.ExtraFiles = []*os.File{lf}
	p := &oauth2Proxy{proc: startProc(t, "oauth2-proxy", cmd, nil), url: proxyURL}

	// It discovers the issuer before it serves; the socket already listens,
	// so one request waits for that (or fails when oauth2-proxy gives up).
	ping := make(chan error, 1)
	go func() {
		c := &http.Client{Timeout: 30 * time.Second}
		resp, err := c.Get(proxyURL + "/ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("/ping: %d", resp.StatusCode)
			}
		}
		ping <- err
	}()
	select {
	case err := <-ping:
		if err != nil {
			t.Fatalf("oauth2-proxy did not come up: %v\n%s", err, p.logs)
		}
	case <-p.done:
		t.Fatalf("oauth2-proxy exited:\n%s", p.logs)
	}
	return p
}

// upstream is the app behind the proxy; it records what reached it.
type upstream struct {
	*httptest.Server
	mu   sync.Mutex
	seen []*http.Request
}

func newUpstream(t *testing.T) *upstream {
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.seen = append(u.seen, r.Clone(r.Context()))
		u.mu.Unlock()
		fmt.Fprint(w, "hello from upstream")
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) requests() []*http.Request {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]*http.Request(nil), u.seen...)
}

// signInThroughProxy does what a person does at a page behind oauth2-proxy:
// open it, press "Sign in" on the proxy's page, sign in at authd (and allow,
// if asked), and land back on the page. It returns the last response.
func signInThroughProxy(t *testing.T, br *browser, a *authd, proxyURL, path, username, password string) (*http.Response, string) {
	t.Helper()
	resp, page := br.get(proxyURL + path)
	// oauth2-proxy's default: a sign-in page, not a redirect.
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("unauthenticated %s: %d, want oauth2-proxy's sign-in page (403)\n%s", path, resp.StatusCode, page)
	}
	start := formTo(t, page, "/oauth2/start")
	if rd := start.fields.Get("rd"); rd != path {
		t.Fatalf("sign-in page rd = %q, want %q", rd, path)
	}
	resp, page = br.submit(resp.Request.URL, start)

	// oauth2-proxy sent the browser to the authorization_endpoint it
	// discovered from authd's issuer, with PKCE S256.
	authz := resp.Request.URL
	if got := authz.Scheme + "://" + authz.Host + authz.Path; got != a.public+"/oauth2/authorize" {
		t.Fatalf("oauth2-proxy sent the browser to %s, want authd's authorization endpoint", authz)
	}
	q := authz.Query()
	if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 ||
		q.Get("response_type") != "code" || q.Get("redirect_uri") != proxyURL+"/oauth2/callback" ||
		!strings.Contains(" "+q.Get("scope")+" ", " openid ") {
		t.Fatalf("authorization request: %v", q)
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `name="password"`) {
		t.Fatalf("authd did not show its login form: %d\n%s", resp.StatusCode, page)
	}
	login := formTo(t, page, "/login")
	login.fields.Set("username", username)
	login.fields.Set("password", password)
	resp, page = br.submit(resp.Request.URL, login)
	if hasButton(page, "decision", "approve") {
		consent := formTo(t, page, "/consent")
		consent.fields.Set("decision", "approve")
		resp, page = br.submit(resp.Request.URL, consent)
	}
	return resp, page
}

// TestOAuth2Proxy puts oauth2-proxy, configured as its documentation says
// for a generic OpenID Connect provider, in front of an app and signs in
// through authd.
func TestOAuth2Proxy(t *testing.T) {
	skipShort(t)
	t.Parallel()
	ver := version(t, "OAUTH2_PROXY_VERSION")
	bin := filepath.Join(cacheDir(), "oauth2-proxy-"+ver, "oauth2-proxy")
	if _, err := os.Stat(bin); err != nil {
		unavailable(t, "oauth2-proxy "+ver)
	}
	if out, err := exec.Command(bin, "--version").CombinedOutput(); err != nil || !strings.Contains(string(out), ver+" ") {
		t.Fatalf("%s --version: %v %s; want %s (run interop/install.sh)", bin, err, out, ver)
	}

	a := startAuthd(t, nil)
	app := newUpstream(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	proxyURL := "http://" + ln.Addr().String()
	clientID, secret := a.createClient(t, map[string]any{
		"client_name":                "App behind oauth2-proxy",
		"redirect_uris":              []string{proxyURL + "/oauth2/callback"},
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"scope":                      "openid email profile",
		"token_endpoint_auth_method": "client_secret_basic",
		"first_party":                true,
	})
	aliceID := a.createUser(t, "alice", "correct horse battery staple", "alice@example.com", true)
	a.createUser(t, "mallory", "unverified horse staple", "mallory@example.com", false)

	p := startOAuth2Proxy(t, bin, ln, a.public, clientID, secret, app.URL)

	// oauth2-proxy read the discovery document at authd's issuer.
	if !a.waitAccessLog("GET /.well-known/openid-configuration", func(l map[string]any) bool { return l["status"] == float64(200) }) {
		t.Fatalf("authd served no discovery document to oauth2-proxy:\n%s", a.logs)
	}

	t.Run("verified e-mail reaches the app", func(t *testing.T) {
		br := newBrowser(t)
		const path = "/private/page?x=1"
		resp, page := signInThroughProxy(t, br, a, p.url, path, "alice", "correct horse battery staple")
		if resp.StatusCode != http.StatusOK || page != "hello from upstream" {
			t.Fatalf("after signing in: %d %s\noauth2-proxy:\n%s", resp.StatusCode, page, p.logs)
		}
		if got := resp.Request.URL.String(); got != p.url+path {
			t.Fatalf("landed on %s, want %s", got, p.url+path)
		}
		reqs := app.requests()
		if len(reqs) != 1 {
			t.Fatalf("upstream saw %d requests, want 1", len(reqs))
		}
		h := reqs[0].Header
		if reqs[0].URL.RequestURI() != path || h.Get("X-Forwarded-Email") != "alice@example.com" ||
			h.Get("X-Forwarded-User") != aliceID || h.Get("X-Forwarded-Preferred-Username") != "alice" {
			t.Fatalf("upstream saw %s with X-Forwarded-Email %q, -User %q (want %q), -Preferred-Username %q",
				reqs[0].URL.RequestURI(), h.Get("X-Forwarded-Email"), h.Get("X-Forwarded-User"), aliceID, h.Get("X-Forwarded-Preferred-Username"))
		}
		// oauth2-proxy redeemed the code at authd's token endpoint as its client.
		if !a.waitAccessLog("POST /oauth2/token", func(l map[string]any) bool {
			return l["status"] == float64(200) && l["client_id"] == clientID
		}) {
			t.Fatalf("no successful token request by %s in authd's access log:\n%s", clientID, a.logs)
		}
		// The session cookie now carries the browser straight through.
		if resp, page := br.get(p.url + "/again"); resp.StatusCode != http.StatusOK || page != "hello from upstream" {
			t.Fatalf("second request with the session: %d %s", resp.StatusCode, page)
		}
		// The userinfo oauth2-proxy keeps for the session.
		resp, page = br.get(p.url + "/oauth2/userinfo")
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, `"email":"alice@example.com"`) {
			t.Fatalf("oauth2-proxy /oauth2/userinfo: %d %s", resp.StatusCode, page)
		}
	})

	t.Run("unverified e-mail is refused", func(t *testing.T) {
		before := len(app.requests())
		br := newBrowser(t)
		resp, page := signInThroughProxy(t, br, a, p.url, "/private", "mallory", "unverified horse staple")
		if resp.StatusCode == http.StatusOK || len(app.requests()) != before {
			t.Fatalf("oauth2-proxy let an unverified address through: %d %s", resp.StatusCode, page)
		}
		// It refused for the reason authd gave it (email_verified false), not
		// because the flow broke.
		if !p.waitOutput("email in id_token (mallory@example.com) isn't verified", 10*time.Second) {
			t.Fatalf("oauth2-proxy refused mallory for another reason: %d\n%s\noauth2-proxy:\n%s", resp.StatusCode, page, p.logs)
		}
		if resp.Request.URL.Host != mustHost(t, p.url) || !strings.HasPrefix(resp.Request.URL.Path, "/oauth2/callback") {
			t.Fatalf("refusal at %s, want oauth2-proxy's callback", resp.Request.URL)
		}
	})
}

func mustHost(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}
