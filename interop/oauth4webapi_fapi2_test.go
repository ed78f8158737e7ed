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

// TestOAuth4WebAPIFAPI2 drives the whole FAPI 2.0 flow with oauth4webapi v3
// against a client authd holds to its fapi2 security profile: PAR with
// private_key_jwt (aud the issuer) and DPoP, the login form, the code, the
// DPoP-bound tokens, a DPoP call to userinfo (the same token as a bearer
// token refused) and a DPoP refresh. A request that was not pushed is
// refused at the authorization endpoint.
func TestOAuth4WebAPIFAPI2(t *testing.T) {
	skipShort(t)
	t.Parallel()
	node := nodeScript(t, "oauth4webapi")
	a := startAuthd(t, nil)
	subID := a.createUser(t, "fay", "a passphrase for fapi", "fay@example.com", true)

	var mu sync.Mutex
	var landed *url.URL
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		landed = r.URL
		mu.Unlock()
		fmt.Fprint(w, "bank app")
	}))
	t.Cleanup(app.Close)
	redirectURI := app.URL + "/cb"

	clientKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	dpopKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwk := func(k any, kid string) map[string]any { return jwkOf(t, k, kid) }
	id, _ := a.createClient(t, map[string]any{
		"client_name":                "Bank app on oauth4webapi",
		"redirect_uris":              []string{redirectURI},
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"scope":                      "openid profile",
		"token_endpoint_auth_method": "private_key_jwt",
		"jwks":                       map[string]any{"keys": []any{jwk(&clientKey.PublicKey, "c1")}},
		"first_party":                true,
		"security_profile":           "fapi2",
	})
	spec := func(extra map[string]any) map[string]any {
		m := map[string]any{"issuer": a.public, "id": id, "redirect_uri": redirectURI,
			"client_jwk": jwk(clientKey, "c1"), "dpop_jwk": jwk(dpopKey, ""), "dpop_pub": jwk(&dpopKey.PublicKey, "")}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}

	// Not pushed: refused, at the redirect URI.
	plain := a.public + "/oauth2/authorize?" + url.Values{"client_id": {id}, "response_type": {"code"}, "redirect_uri": {redirectURI},
		"scope": {"openid"}, "state": {"s"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}.Encode()
	if resp, _ := newBrowser(t).get(plain); resp.StatusCode != http.StatusOK {
		t.Fatalf("a request that was not pushed: %d", resp.StatusCode)
	}
	mu.Lock()
	if landed == nil || landed.Query().Get("error") != "invalid_request" {
		t.Fatalf("a request that was not pushed landed at %v", landed)
	}
	landed = nil
	mu.Unlock()

	var start struct {
		URL, Verifier, State, Nonce, Error string
	}
	runNode(t, node, 30*time.Second, "oauth4webapi-fapi2.mjs", spec(map[string]any{"phase": "start"}), &start)
	if start.Error != "" {
		t.Fatalf("oauth4webapi: %s\nauthd:\n%s", start.Error, a.logs)
	}
	br := newBrowser(t)
	resp, page := br.get(start.URL)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `name="password"`) {
		t.Fatalf("authd did not show its login form: %d\n%s", resp.StatusCode, page)
	}
	login := formTo(t, page, "/login")
	login.fields.Set("username", "fay")
	login.fields.Set("password", "a passphrase for fapi")
	if resp, page = br.submit(resp.Request.URL, login); resp.StatusCode != http.StatusOK || page != "bank app" {
		t.Fatalf("after signing in: %d at %s\n%s", resp.StatusCode, resp.Request.URL, page)
	}
	mu.Lock()
	callback := landed
	mu.Unlock()
	if callback == nil || callback.Query().Get("code") == "" {
		t.Fatalf("the browser came back with %v", callback)
	}

	var fin struct {
		TokenType      string         `json:"token_type"`
		Claims         map[string]any `json:"claims"`
		UserInfo       map[string]any `json:"userinfo"`
		BearerUserInfo int            `json:"bearer_userinfo"`
		RefreshedType  string         `json:"refreshed_type"`
		Error          string         `json:"error"`
	}
	runNode(t, node, 30*time.Second, "oauth4webapi-fapi2.mjs", spec(map[string]any{"phase": "finish",
		"callback": app.URL + callback.RequestURI(), "verifier": start.Verifier, "state": start.State, "nonce": start.Nonce}), &fin)
	if fin.Error != "" {
		t.Fatalf("oauth4webapi: %s\nauthd:\n%s", fin.Error, a.logs)
	}
	if fin.TokenType != "dpop" || fin.Claims["sub"] != subID || fin.UserInfo["sub"] != subID || fin.RefreshedType != "dpop" {
		t.Errorf("token_type %s, claims %v, userinfo %v, refreshed %s", fin.TokenType, fin.Claims, fin.UserInfo, fin.RefreshedType)
	}
	if fin.BearerUserInfo != http.StatusUnauthorized {
		t.Errorf("the DPoP-bound token as a bearer token at userinfo: %d", fin.BearerUserInfo)
	}
}
