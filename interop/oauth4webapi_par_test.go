package interop

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestOAuth4WebAPIPAR signs a person in to a confidential web app built on
// oauth4webapi v3 that pushes its authorization requests (RFC 9126) with
// private_key_jwt and a DPoP proof, as authd requires of it
// (require_pushed_authorization_requests): the browser carries only
// client_id and the request_uri through authd's login form, oauth4webapi
// checks the callback (state, RFC 9207 iss) and redeems the code with the
// same DPoP key (the code is bound to it, RFC 9449 §10.1); the request_uri
// does not work twice.
func TestOAuth4WebAPIPAR(t *testing.T) {
	skipShort(t)
	t.Parallel()
	node := nodeScript(t, "oauth4webapi")
	a := startAuthd(t, nil)
	bobID := a.createUser(t, "bob", "another fine passphrase", "bob@example.com", true)

	var mu sync.Mutex
	var landed *url.URL
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		landed = r.URL
		mu.Unlock()
		fmt.Fprint(w, "web app")
	}))
	t.Cleanup(app.Close)
	redirectURI := app.URL + "/cb"

	clientKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	dpopKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwk := func(k any, kid string) map[string]any { return jwkOf(t, k, kid) }
	id, _ := a.createClient(t, map[string]any{
		"client_name":                           "Web app on oauth4webapi",
		"redirect_uris":                         []string{redirectURI},
		"grant_types":                           []string{"authorization_code"},
		"scope":                                 "openid profile",
		"token_endpoint_auth_method":            "private_key_jwt",
		"jwks":                                  map[string]any{"keys": []any{jwk(&clientKey.PublicKey, "c1")}},
		"first_party":                           true,
		"require_pushed_authorization_requests": true,
	})
	spec := func(extra map[string]any) map[string]any {
		m := map[string]any{"issuer": a.public, "id": id, "redirect_uri": redirectURI,
			"client_jwk": jwk(clientKey, "c1"), "dpop_jwk": jwk(dpopKey, ""), "dpop_pub": jwk(&dpopKey.PublicKey, "")}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}

	var start struct {
		URL, Verifier, State, Nonce string
		RequestURI                  string  `json:"request_uri"`
		ExpiresIn                   float64 `json:"expires_in"`
		RequestURIPushed            string  `json:"request_uri_pushed"`
		Error                       string
	}
	runNode(t, node, 30*time.Second, "oauth4webapi-par.mjs", spec(map[string]any{"phase": "start"}), &start)
	if start.Error != "" {
		t.Fatalf("oauth4webapi: %s\nauthd:\n%s", start.Error, a.logs)
	}
	if !strings.HasPrefix(start.URL, a.public+"/oauth2/authorize?") || !strings.HasPrefix(start.RequestURI, "urn:ietf:params:oauth:request_uri:") || start.ExpiresIn != 60 {
		t.Fatalf("push: %+v", start)
	}
	if start.RequestURIPushed != "invalid_request" {
		t.Errorf("a request_uri in the push: %s, want invalid_request", start.RequestURIPushed)
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
	mu.Lock()
	callback := landed
	mu.Unlock()
	if callback == nil || callback.Query().Get("code") == "" {
		t.Fatalf("the browser came back with %v", callback)
	}

	var fin struct {
		TokenType string         `json:"token_type"`
		Claims    map[string]any `json:"claims"`
		Error     string         `json:"error"`
	}
	runNode(t, node, 30*time.Second, "oauth4webapi-par.mjs", spec(map[string]any{"phase": "finish",
		"callback": app.URL + callback.RequestURI(), "verifier": start.Verifier, "state": start.State, "nonce": start.Nonce}), &fin)
	if fin.Error != "" {
		t.Fatalf("oauth4webapi: %s\nauthd:\n%s", fin.Error, a.logs)
	}
	if fin.TokenType != "dpop" || fin.Claims["sub"] != bobID || fin.Claims["aud"] != id {
		t.Errorf("tokens: %s, claims %v", fin.TokenType, fin.Claims)
	}

	// Spent: the same authorization URL again is refused at the redirect URI.
	mu.Lock()
	landed = nil
	mu.Unlock()
	if resp, _ = newBrowser(t).get(start.URL); resp.StatusCode != http.StatusOK {
		t.Fatalf("the request_uri again: %d", resp.StatusCode)
	}
	mu.Lock()
	defer mu.Unlock()
	if landed == nil || landed.Query().Get("error") != "invalid_request_uri" {
		t.Fatalf("the request_uri again: landed at %v", landed)
	}
}
