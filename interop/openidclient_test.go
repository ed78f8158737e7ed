package interop

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestOpenIDClient runs openid-client v6 as a confidential client of each
// authentication method and token format: discovery, client_credentials,
// introspection, revocation; jose verifies the JWT access token as a resource
// server would (RFC 9068); a wrong secret gets invalid_client.
func TestOpenIDClient(t *testing.T) {
	skipShort(t)
	t.Parallel()
	node := nodeScript(t, "openid-client", "jose")
	a := startAuthd(t, nil)

	type client struct {
		Name   string `json:"name"`
		ID     string `json:"id"`
		Secret string `json:"secret"`
		Auth   string `json:"auth"`
		Format string `json:"format"`
	}
	clients := []client{
		{Name: "basic-jwt", Auth: "basic", Format: "jwt"},
		{Name: "post-opaque", Auth: "post", Format: "opaque"},
	}
	for i := range clients {
		c := &clients[i]
		c.ID, c.Secret = a.createClient(t, map[string]any{
			"client_name":                c.Name,
			"grant_types":                []string{"client_credentials"},
			"scope":                      "read write",
			"token_endpoint_auth_method": "client_secret_" + c.Auth,
			"access_token_format":        c.Format,
		})
	}

	var out struct {
		Results []struct {
			Name            string         `json:"name"`
			TokenType       string         `json:"token_type"`
			Scope           string         `json:"scope"`
			ExpiresIn       float64        `json:"expires_in"`
			JWT             *jwtParts      `json:"jwt"`
			Introspection   map[string]any `json:"introspection"`
			AfterRevocation map[string]any `json:"after_revocation"`
			WrongSecret     map[string]any `json:"wrong_secret"`
			Error           string         `json:"error"`
		} `json:"results"`
	}
	runNode(t, node, 60*time.Second, "openid-client.mjs", map[string]any{"issuer": a.public, "clients": clients}, &out)
	if len(out.Results) != len(clients) {
		t.Fatalf("results for %d clients, want %d: %+v", len(out.Results), len(clients), out)
	}
	for i, r := range out.Results {
		c := clients[i]
		t.Run(c.Name, func(t *testing.T) {
			if r.Error != "" {
				t.Fatalf("openid-client: %s\nauthd:\n%s", r.Error, a.logs)
			}
			if r.TokenType != "bearer" || r.Scope != "read" || r.ExpiresIn <= 0 {
				t.Errorf("token response: type %q, scope %q, expires in %v", r.TokenType, r.Scope, r.ExpiresIn)
			}
			if c.Format == "jwt" {
				if r.JWT == nil || r.JWT.Payload["client_id"] != c.ID || r.JWT.Payload["iss"] != a.public || r.JWT.Header["typ"] != "at+jwt" {
					t.Errorf("JWT access token as jose verified it: %+v", r.JWT)
				}
			} else if r.JWT != nil {
				t.Errorf("an opaque token was verified as a JWT: %+v", r.JWT)
			}
			in := r.Introspection
			if in["active"] != true || in["client_id"] != c.ID || in["scope"] != "read" || in["token_type"] == "" {
				t.Errorf("introspection: %v", in)
			}
			if r.AfterRevocation["active"] != false || len(r.AfterRevocation) != 1 {
				t.Errorf("introspection after revocation: %v, want only active false (RFC 7662 §2.2)", r.AfterRevocation)
			}
			// RFC 6749 §5.2: 401 for a failed client authentication; RFC
			// 9110 §15.5.2: every 401 carries a challenge, whichever method
			// the client used.
			ws := r.WrongSecret
			wantName, wantChallenge := "WWWAuthenticateChallengeError", `Basic realm="authd"`
			if ws["error"] != "invalid_client" || ws["status"] != float64(401) || ws["name"] != wantName ||
				(wantChallenge != "" && !strings.HasPrefix(fmt.Sprint(ws["www_authenticate"]), wantChallenge)) {
				b, _ := json.Marshal(ws)
				t.Errorf("wrong secret: %s, want invalid_client, 401, %s, challenge %q", b, wantName, wantChallenge)
			}
		})
	}
}

type jwtParts struct {
	Header  map[string]any `json:"header"`
	Payload map[string]any `json:"payload"`
}

// TestOpenIDClientCodeFlow signs a person in to a server-side web app built
// on openid-client v6 (a confidential client): authorization URL with PKCE,
// authd's login form in the browser, the callback redeemed with openid-client's
// checks (state, RFC 9207 iss, id_token claims, nonce), userinfo, refresh, and
// RP-initiated logout through the end_session_url openid-client builds.
func TestOpenIDClientCodeFlow(t *testing.T) {
	skipShort(t)
	t.Parallel()
	node := nodeScript(t, "openid-client")
	a := startAuthd(t, nil)
	bobID := a.createUser(t, "bob", "another fine passphrase", "bob@example.com", true)

	// The web app's own URLs: it records what the browser brings back.
	var mu sync.Mutex
	landed := map[string]*url.URL{}
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		landed[r.URL.Path] = r.URL
		mu.Unlock()
		fmt.Fprint(w, "web app")
	}))
	t.Cleanup(app.Close)
	landedAt := func(path string) *url.URL {
		mu.Lock()
		defer mu.Unlock()
		return landed[path]
	}
	redirectURI, postLogout := app.URL+"/cb", app.URL+"/signed-out"
	// openid-client authenticates with client_secret_post unless told otherwise.
	id, secret := a.createClient(t, map[string]any{
		"client_name":                "Web app on openid-client",
		"redirect_uris":              []string{redirectURI},
		"post_logout_redirect_uris":  []string{postLogout},
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"scope":                      "openid profile email",
		"token_endpoint_auth_method": "client_secret_post",
		"first_party":                true,
	})
	base := map[string]any{"issuer": a.public, "id": id, "secret": secret}
	with := func(extra map[string]any) map[string]any {
		m := map[string]any{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}

	var start struct{ URL, Verifier, State, Nonce string }
	runNode(t, node, 30*time.Second, "openid-client-code.mjs", with(map[string]any{"phase": "start", "redirect_uri": redirectURI}), &start)
	if !strings.HasPrefix(start.URL, a.public+"/oauth2/authorize?") {
		t.Fatalf("openid-client's authorization URL %s is not authd's authorization endpoint", start.URL)
	}

	br := newBrowser(t)
	resp, page := br.get(start.URL)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `name="password"`) {
		t.Fatalf("authd did not show its login form: %d\n%s", resp.StatusCode, page)
	}
	login := formTo(t, page, "/login")
	login.fields.Set("username", "bob")
	login.fields.Set("password", "another fine passphrase")
	if resp, page = br.submit(resp.Request.URL, login); resp.StatusCode != http.StatusOK || page != "web app" {
		t.Fatalf("after signing in: %d at %s\n%s", resp.StatusCode, resp.Request.URL, page)
	}
	callback := landedAt("/cb")
	if callback == nil {
		t.Fatal("the browser never came back to the redirect URI")
	}

	var fin struct {
		Claims          map[string]any `json:"claims"`
		Scope           string         `json:"scope"`
		UserInfo        map[string]any `json:"userinfo"`
		Refreshed       bool           `json:"refreshed"`
		RefreshedClaims map[string]any `json:"refreshed_claims"`
		AfterRevocation string         `json:"after_revocation"`
		EndSessionURL   string         `json:"end_session_url"`
		Error           string         `json:"error"`
	}
	runNode(t, node, 30*time.Second, "openid-client-code.mjs", with(map[string]any{
		"phase": "finish", "callback": app.URL + callback.RequestURI(), "verifier": start.Verifier,
		"state": start.State, "nonce": start.Nonce, "post_logout_redirect_uri": postLogout,
	}), &fin)
	if fin.Error != "" {
		t.Fatalf("openid-client: %s\nauthd:\n%s", fin.Error, a.logs)
	}
	if fin.Claims["sub"] != bobID || fin.Claims["email"] != "bob@example.com" || fin.Claims["email_verified"] != true || fin.Claims["aud"] != id {
		t.Errorf("id_token claims: %v", fin.Claims)
	}
	if fin.UserInfo["sub"] != bobID || fin.UserInfo["preferred_username"] != "bob" {
		t.Errorf("userinfo: %v", fin.UserInfo)
	}
	if !fin.Refreshed {
		t.Error("refresh did not rotate the refresh token")
	}
	if fin.RefreshedClaims != nil && fin.RefreshedClaims["sub"] != bobID {
		t.Errorf("id_token from the refresh: %v", fin.RefreshedClaims)
	}
	if fin.AfterRevocation != "invalid_grant" {
		t.Errorf("refresh with a revoked refresh token: %s, want invalid_grant", fin.AfterRevocation)
	}

	// RP-initiated logout: authd asks, then sends the browser to the
	// registered post-logout URI with the state.
	if !strings.HasPrefix(fin.EndSessionURL, a.public+"/logout?") {
		t.Fatalf("end_session_url = %s", fin.EndSessionURL)
	}
	resp, page = br.get(fin.EndSessionURL)
	confirm := formTo(t, page, "/logout")
	if resp, page = br.submit(resp.Request.URL, confirm); resp.StatusCode != http.StatusOK || page != "web app" {
		t.Fatalf("after confirming the logout: %d at %s\n%s", resp.StatusCode, resp.Request.URL, page)
	}
	if got := landedAt("/signed-out"); got == nil || got.Query().Get("state") != "signed-out-1" {
		t.Fatalf("post-logout redirect: %v", got)
	}
	// The session is gone: the next authorization asks for the password.
	if resp, page = br.get(start.URL); resp.StatusCode != http.StatusOK || !strings.Contains(page, `name="password"`) {
		t.Fatalf("authorize after logout: %d\n%s", resp.StatusCode, page)
	}
}
