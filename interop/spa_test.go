package interop

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// chromiumPath finds the browser: AUTHD_CHROMIUM, else Debian's chromium.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("AUTHD_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			unavailable(t, "chromium at AUTHD_CHROMIUM ("+p+")")
		}
		return p
	}
	p, err := exec.LookPath("chromium")
	if err != nil {
		unavailable(t, "chromium")
	}
	return p
}

// serveSPA serves the app in js/spa on its own web origin (a new port on a
// loopback address: another origin than authd's), with oauth4webapi's module
// straight from node_modules, no build step. config gets the app's base URL
// and returns /config.json.
func serveSPA(t *testing.T, host string, config func(base string) map[string]any) string {
	t.Helper()
	addr := host
	if host == "localhost" {
		addr = "127.0.0.1" // what browsers resolve it to, never the network
	}
	ln, err := net.Listen("tcp", addr+":0")
	if err != nil {
		t.Fatalf("listen on %s: %v", addr, err)
	}
	base := "http://" + net.JoinHostPort(host, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	cfg, err := json.Marshal(config(base))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	page := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		http.ServeFile(w, r, filepath.Join("js", "spa", "index.html"))
	}
	mux.HandleFunc("GET /{$}", page)
	mux.HandleFunc("GET /cb", page)
	mux.HandleFunc("GET /app.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join("js", "spa", "app.js"))
	})
	mux.HandleFunc("GET /oauth4webapi.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join("js", "node_modules", "oauth4webapi", "build", "index.js"))
	})
	mux.HandleFunc("GET /config.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(cfg)
	})
	srv := httptest.NewUnstartedServer(mux)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return base
}

type browserReport struct {
	Pages []struct {
		Result    map[string]any `json:"result"`
		URL       string         `json:"url"`
		LoginPage string         `json:"loginPage"`
		Error     string         `json:"error"`
	} `json:"pages"`
	Console    []string `json:"console"`
	PageErrors []string `json:"pageErrors"`
	Failed     []string `json:"failed"`
}

func (r browserReport) String() string {
	b, _ := json.MarshalIndent(r, "", "  ")
	return string(b)
}

// TestSinglePageApp signs in from a single-page app on another web origin:
// oauth4webapi in headless Chromium does discovery, the authorization code
// flow with PKCE as a public client, the token request, id_token signature
// (JWKS), userinfo (a preflighted request), refresh and revocation, all by
// fetch across origins, so CORS is checked by a real browser. An origin no
// client allows can read the public documents and nothing else.
func TestSinglePageApp(t *testing.T) {
	skipShort(t)
	t.Parallel()
	node := nodeScript(t, "oauth4webapi", "playwright-core")
	browserBin := chromiumPath(t)
	a := startAuthd(t, nil)
	userID := a.createUser(t, "alice", "correct horse battery staple", "alice@example.com", true)

	var clientID string
	// The app is on http://localhost:port, another site than authd's
	// 127.0.0.1, as an app and its identity provider usually are: the session
	// cookie must survive a cross-site top-level navigation. (authd takes http
	// redirect URIs on localhost, 127.0.0.1 and ::1 only, not all of 127/8.)
	spa := serveSPA(t, "localhost", func(base string) map[string]any {
		// A public client; authd derives its CORS origin from the redirect URI.
		clientID, _ = a.createClient(t, map[string]any{
			"client_name":                "SPA",
			"redirect_uris":              []string{base + "/cb"},
			"grant_types":                []string{"authorization_code", "refresh_token"},
			"scope":                      "openid profile email",
			"token_endpoint_auth_method": "none",
			"first_party":                true,
		})
		return map[string]any{"issuer": a.public, "client_id": clientID, "redirect_uri": base + "/cb", "mode": "login"}
	})
	// Another port of authd's own host is another origin (but the same site),
	// and no client allows it.
	stranger := serveSPA(t, "127.0.0.1", func(base string) map[string]any {
		return map[string]any{"issuer": a.public, "client_id": clientID, "redirect_uri": spa + "/cb", "mode": "refused"}
	})

	var rep browserReport
	runNode(t, node, 90*time.Second, "browser.mjs", map[string]any{
		"chromium":    browserBin,
		"userDataDir": t.TempDir(),
		"timeoutMs":   20000,
		"pages": []map[string]any{
			{"url": spa + "/", "username": "alice", "password": "correct horse battery staple"},
			// Again: authd's session cookie signs alice in with no form.
			{"url": spa + "/"},
			{"url": stranger + "/"},
		},
	}, &rep)
	if len(rep.Pages) != 3 {
		t.Fatalf("browser report:\n%s", rep)
	}

	login := rep.Pages[0]
	if login.Error != "" || login.Result["ok"] != true {
		t.Fatalf("the app did not sign in:\n%s\nauthd:\n%s", rep, a.logs)
	}
	if !strings.HasPrefix(login.LoginPage, a.public+"/oauth2/authorize?") {
		t.Errorf("login form at %s, want authd's authorization endpoint", login.LoginPage)
	}
	res := login.Result
	claims, _ := res["id_token_claims"].(map[string]any)
	userinfo, _ := res["userinfo"].(map[string]any)
	if res["page"] != spa+"/cb" || res["issuer"] != a.public {
		t.Errorf("finished on %v with issuer %v, want %s/cb and %s", res["page"], res["issuer"], spa, a.public)
	}
	if tok, _ := res["access_token"].(string); tok == "" || res["token_type"] != "bearer" {
		t.Errorf("access token %q, type %v", tok, res["token_type"])
	}
	if claims["sub"] != userID || claims["iss"] != a.public || !audienceHas(claims["aud"], clientID) {
		t.Errorf("id_token claims %v, want sub %s, iss %s, aud %s", claims, userID, a.public, clientID)
	}
	if userinfo["sub"] != userID || userinfo["preferred_username"] != "alice" || userinfo["email"] != "alice@example.com" {
		t.Errorf("userinfo %v", userinfo)
	}
	if res["refreshed"] != true || res["after_revocation"] != "invalid_grant" {
		t.Errorf("refresh %v; refresh after revoking: %v (want invalid_grant)", res["refreshed"], res["after_revocation"])
	}
	if res["replay"] != "invalid_grant" {
		t.Errorf("replayed code: %v, want a readable invalid_grant", res["replay"])
	}
	if ua, _ := res["userinfo_after_replay"].(map[string]any); ua["name"] != "WWWAuthenticateChallengeError" || ua["status"] != float64(401) ||
		!strings.Contains(fmt.Sprint(ua["challenges"]), "invalid_token") {
		t.Errorf("userinfo with the access token of a replayed code: %v, want 401 with a readable Bearer invalid_token challenge", res["userinfo_after_replay"])
	}

	silent := rep.Pages[1]
	if silent.Error != "" || silent.Result["ok"] != true || silent.LoginPage != "" {
		t.Fatalf("the second sign-in did not ride authd's session:\n%s", rep)
	}
	if c, _ := silent.Result["id_token_claims"].(map[string]any); c["sub"] != userID || c["auth_time"] != claims["auth_time"] {
		t.Errorf("second sign-in id_token: %v, want sub %s and the first sign-in's auth_time %v", c, userID, claims["auth_time"])
	}

	// What crossed origins, by authd's access log: the token request was this
	// client's, userinfo was preflighted and both were answered.
	for _, want := range []struct {
		route string
		match func(map[string]any) bool
	}{
		{"POST /oauth2/token", func(l map[string]any) bool { return l["status"] == float64(200) && l["client_id"] == clientID }},
		{"GET /oauth2/jwks", func(l map[string]any) bool { return l["status"] == float64(200) }},
		{"OPTIONS /oauth2/userinfo", func(l map[string]any) bool { return l["status"] == float64(204) }},
		{"GET /oauth2/userinfo", func(l map[string]any) bool { return l["status"] == float64(200) }},
		{"POST /oauth2/revoke", func(l map[string]any) bool { return l["status"] == float64(200) }},
	} {
		if !a.waitAccessLog(want.route, want.match) {
			t.Errorf("authd's access log has no answered %s", want.route)
		}
	}

	probe := rep.Pages[2]
	if probe.Error != "" || probe.Result["ok"] != true || probe.Result["issuer"] != a.public {
		t.Fatalf("the app on an origin no client allows could not even read discovery:\n%s", rep)
	}
	for k, want := range map[string]string{"jwks": "readable 200", "token": "TypeError", "userinfo": "TypeError"} {
		if probe.Result[k] != want {
			t.Errorf("from an origin no client allows, %s: %v, want %s", k, probe.Result[k], want)
		}
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("browser report:\n%s", rep)
	}
}

func audienceHas(aud any, id string) bool {
	switch v := aud.(type) {
	case string:
		return v == id
	case []any:
		for _, a := range v {
			if a == id {
				return true
			}
		}
	}
	return false
}
