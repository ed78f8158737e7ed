package interop

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestBackchannelLogoutWithJose: a relying party with a
// backchannel_logout_uri receives a logout token when the user signs out of
// authd, and checks it with jose the way Back-Channel Logout §2.6 asks
// (against the discovered JWKS, typ logout+jwt, no nonce), naming the sid
// of the id_token it got.
func TestBackchannelLogoutWithJose(t *testing.T) {
	skipShort(t)
	t.Parallel()
	node := nodeScript(t, "jose")
	tokens := make(chan string, 4)
	rp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/backchannel" && r.Method == http.MethodPost {
			_ = r.ParseForm()
			tokens <- r.PostForm.Get("logout_token")
			w.WriteHeader(http.StatusOK)
			return
		}
		http.Error(w, "web app", http.StatusOK)
	}))
	t.Cleanup(rp.Close)
	a := startAuthd(t, map[string]string{"AUTHD_OUTBOUND_ALLOW_LOOPBACK": "true"})
	a.createUser(t, "gwen", "a fine passphrase indeed", "gwen@example.com", false)
	id, secret := a.createClient(t, map[string]any{
		"client_name": "RP with a back channel", "redirect_uris": []string{rp.URL + "/cb"},
		"grant_types": []string{"authorization_code"}, "scope": "openid", "first_party": true,
		"token_endpoint_auth_method": "client_secret_basic",
		"backchannel_logout_uri":     rp.URL + "/backchannel", "backchannel_logout_session_required": true,
	})

	// Sign in through the browser, then redeem the code for an id_token.
	br := newBrowser(t)
	verifier, challenge := pkce()
	resp, page := br.get(a.public + "/oauth2/authorize?response_type=code&client_id=" + id +
		"&redirect_uri=" + rp.URL + "/cb&scope=openid&state=s1&nonce=n1&code_challenge=" + challenge + "&code_challenge_method=S256")
	login := formTo(t, page, "/login")
	login.fields.Set("username", "gwen")
	login.fields.Set("password", "a fine passphrase indeed")
	resp, _ = br.submit(resp.Request.URL, login)
	code := resp.Request.URL.Query().Get("code")
	if code == "" {
		t.Fatalf("no code at %s", resp.Request.URL)
	}
	req, _ := http.NewRequest(http.MethodPost, a.public+"/oauth2/token", strings.NewReader(
		"grant_type=authorization_code&code="+code+"&redirect_uri="+rp.URL+"/cb&code_verifier="+verifier))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	tr, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		IDToken string `json:"id_token"`
	}
	_ = json.NewDecoder(tr.Body).Decode(&tok)
	tr.Body.Close()
	sid := claimOf(t, tok.IDToken, "sid")
	if sid == "" {
		t.Fatalf("id_token without sid")
	}

	// Sign out: the confirmation form.
	resp, page = br.get(a.public + "/logout")
	if resp, _ = br.submit(resp.Request.URL, formTo(t, page, "/logout")); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-out: %d", resp.StatusCode)
	}
	var lt string
	select {
	case lt = <-tokens:
	case <-time.After(30 * time.Second):
		t.Fatalf("no logout token arrived\nauthd:\n%s", a.logs)
	}
	var got struct {
		Header  map[string]any `json:"header"`
		Payload map[string]any `json:"payload"`
		Error   string         `json:"error"`
	}
	runNode(t, node, 30*time.Second, "jose-logout-token.mjs", map[string]any{
		"issuer": a.public, "jwks_uri": a.public + "/oauth2/jwks", "client_id": id, "token": lt}, &got)
	if got.Error != "" {
		t.Fatalf("jose refused the logout token: %s", got.Error)
	}
	if got.Payload["sid"] != sid {
		t.Fatalf("logout token sid %v, want the id_token's %s", got.Payload["sid"], sid)
	}
}

// pkce is a fresh RFC 7636 verifier and its S256 challenge.
func pkce() (verifier, challenge string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// claimOf reads one string claim of a JWT without verifying it (jose
// verifies what matters; this only reads the id_token's sid to compare).
func claimOf(t *testing.T, jwt, name string) string {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	s, _ := claims[name].(string)
	return s
}
