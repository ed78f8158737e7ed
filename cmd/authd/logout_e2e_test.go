package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

const logoutAdminToken = "logout-e2e-admin-token-0123456789abcdef01234567"

// relyingParty is a client's back channel on loopback: it hands every
// logout_token it receives to tokens and answers with status.
type relyingParty struct {
	srv    *httptest.Server
	status atomic.Int32
	tokens chan string
}

func newRelyingParty(t *testing.T) *relyingParty {
	rp := &relyingParty{tokens: make(chan string, 16)}
	rp.status.Store(http.StatusOK)
	rp.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Back-Channel Logout §2.5: a form POST of logout_token.
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		_ = r.ParseForm()
		rp.tokens <- r.PostForm.Get("logout_token")
		w.WriteHeader(int(rp.status.Load()))
	}))
	t.Cleanup(rp.srv.Close)
	return rp
}

// next waits for the next logout token: an event, not a sleep.
func (rp *relyingParty) next(t *testing.T) string {
	t.Helper()
	select {
	case tok := <-rp.tokens:
		return tok
	case <-time.After(30 * time.Second):
		t.Fatal("no logout token reached the relying party")
		return ""
	}
}

func logoutEnv(dataDir string) map[string]string {
	env := map[string]string{
		"AUTHD_ARGON2_MEMORY_KIB": "8192", "AUTHD_ARGON2_TIME": "1",
		"AUTHD_OUTBOUND_ALLOW_LOOPBACK": "true", "AUTHD_ADMIN_TOKEN": logoutAdminToken,
		"AUTHD_LOGOUT_RETRY_BASE": "100ms",
	}
	if dataDir != "" {
		env["AUTHD_DATA_DIR"] = dataDir
	}
	return env
}

// adminDo calls the admin API with the test's token.
func adminDo(t *testing.T, s *server, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.admin+path, rd)
	req.Header.Set("Authorization", "Bearer "+logoutAdminToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// signInForIDToken registers nothing: it signs user in to clientID in br
// and returns the id_token of the code exchange.
func signInForIDToken(t *testing.T, s *server, br *browser, clientID, user, pw string) string {
	t.Helper()
	verifier, challenge := pkcePair()
	authorize := s.public + "/oauth2/authorize?" + url.Values{
		"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {callback},
		"scope": {"openid"}, "state": {"st"}, "nonce": {"n-1"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}.Encode()
	resp, page := br.get(authorize)
	if resp.StatusCode == http.StatusOK {
		form := hiddenFields(page)
		form.Set("username", user)
		form.Set("password", pw)
		resp, _ = br.post(s.public+"/login", form)
	}
	code := codeFrom(t, resp, "st")
	status, tok := tokenRequest(t, s, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {callback}, "code_verifier": {verifier}, "client_id": {clientID}})
	if status != 200 || tok["id_token"] == nil {
		t.Fatalf("code exchange: %d %v", status, tok)
	}
	return tok["id_token"].(string)
}

// verifyWithAuthdJWKS checks a compact JWS against authd's published keys
// and returns its typ header and claims.
func verifyWithAuthdJWKS(t *testing.T, s *server, tok string) (string, map[string]any) {
	t.Helper()
	resp, err := http.Get(s.public + "/oauth2/jwks")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	hdr := jws.Signatures[0].Header
	keys := set.Key(hdr.KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q is not in the JWKS", hdr.KeyID)
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		t.Fatalf("does not verify against the JWKS: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	typ, _ := hdr.ExtraHeaders[jose.HeaderType].(string)
	return typ, claims
}

func createLogoutClient(t *testing.T, s *server, rp *relyingParty) string {
	t.Helper()
	status, c := adminDo(t, s, http.MethodPost, "/admin/clients", map[string]any{
		"client_name": "RP", "token_endpoint_auth_method": "none", "first_party": true,
		"grant_types": []string{"authorization_code"}, "redirect_uris": []string{callback}, "scope": "openid",
		"backchannel_logout_uri": rp.srv.URL + "/backchannel", "backchannel_logout_session_required": true,
	})
	if status != http.StatusCreated && status != http.StatusOK {
		t.Fatalf("create client: %d %v", status, c)
	}
	if c["backchannel_logout_uri"] != rp.srv.URL+"/backchannel" {
		t.Fatalf("backchannel_logout_uri not kept: %v", c)
	}
	return c["client_id"].(string)
}

// checkLogoutToken verifies a logout token as a relying party must
// (Back-Channel Logout §2.6) and returns its claims.
func checkLogoutToken(t *testing.T, s *server, tok, clientID, sid string) map[string]any {
	t.Helper()
	typ, claims := verifyWithAuthdJWKS(t, s, tok)
	if typ != "logout+jwt" {
		t.Errorf("typ = %q, want logout+jwt", typ)
	}
	if claims["iss"] != s.public || claims["aud"] != clientID || claims["sid"] != sid || claims["sub"] == nil {
		t.Errorf("claims %v (want aud %s sid %s)", claims, clientID, sid)
	}
	if _, ok := claims["nonce"]; ok {
		t.Error("logout token carries a nonce (§2.4 forbids it)")
	}
	if ev, _ := claims["events"].(map[string]any); ev == nil || ev["http://schemas.openid.net/event/backchannel-logout"] == nil {
		t.Errorf("events = %v", claims["events"])
	}
	iat, _ := claims["iat"].(float64)
	exp, _ := claims["exp"].(float64)
	if jti, _ := claims["jti"].(string); jti == "" || exp <= iat || exp-iat > 300 {
		t.Errorf("jti %v iat %v exp %v", claims["jti"], iat, exp)
	}
	return claims
}

// TestBackchannelLogout: a user signs in to a client with a
// backchannel_logout_uri, signs out, and the client receives a logout token
// that verifies against authd's JWKS and names the session of its id_token;
// an administrator ending the user's sessions tells it again.
func TestBackchannelLogout(t *testing.T) {
	rp := newRelyingParty(t)
	s := startServer(t, logoutEnv(""))
	createUser(t, s, "erin", "correct horse battery staple")
	clientID := createLogoutClient(t, s, rp)

	resp, err := http.Get(s.public + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var disco map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&disco)
	resp.Body.Close()
	for _, f := range []string{"backchannel_logout_supported", "backchannel_logout_session_supported",
		"frontchannel_logout_supported", "frontchannel_logout_session_supported"} {
		if disco[f] != true {
			t.Errorf("discovery %s = %v", f, disco[f])
		}
	}

	br := newBrowser(t)
	_, idClaims := verifyWithAuthdJWKS(t, s, signInForIDToken(t, s, br, clientID, "erin", "correct horse battery staple"))
	sid, _ := idClaims["sid"].(string)
	if sid == "" {
		t.Fatalf("id_token has no sid: %v", idClaims)
	}

	_, page := br.get(s.public + "/logout")
	if resp, page := br.post(s.public+"/logout", hiddenFields(page)); resp.StatusCode != 200 || !strings.Contains(page, "signed out") {
		t.Fatalf("sign-out: %d\n%s", resp.StatusCode, page)
	}
	claims := checkLogoutToken(t, s, rp.next(t), clientID, sid)
	if claims["sub"] != idClaims["sub"] {
		t.Errorf("sub %v, want the id_token's %v", claims["sub"], idClaims["sub"])
	}

	// Signed in again (a new session, a new sid), then signed out
	// everywhere by an administrator.
	_, idClaims = verifyWithAuthdJWKS(t, s, signInForIDToken(t, s, br, clientID, "erin", "correct horse battery staple"))
	sid2, _ := idClaims["sid"].(string)
	if sid2 == "" || sid2 == sid {
		t.Fatalf("second session's sid %q (first %q)", sid2, sid)
	}
	if status, body := adminDo(t, s, http.MethodDelete, "/admin/users/erin/sessions", nil); status != http.StatusNoContent {
		t.Fatalf("DELETE sessions: %d %v", status, body)
	}
	checkLogoutToken(t, s, rp.next(t), clientID, sid2)
	// The browser's session is gone: authorize asks for the password.
	if resp, page := br.get(s.public + "/oauth2/authorize?" + url.Values{"response_type": {"code"}, "client_id": {clientID},
		"redirect_uri": {callback}, "scope": {"openid"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"},
		"code_challenge_method": {"S256"}}.Encode()); resp.StatusCode != 200 || !strings.Contains(page, `name="password"`) {
		t.Fatalf("still signed in after the admin ended the sessions: %d", resp.StatusCode)
	}
}

// TestLogoutSurvivesRestart: a notification the relying party could not
// take (503) stays in the outbox across a restart of authd and is delivered
// by the next process.
func TestLogoutSurvivesRestart(t *testing.T) {
	rp := newRelyingParty(t)
	rp.status.Store(http.StatusServiceUnavailable)
	dir := t.TempDir()
	s := startServer(t, logoutEnv(dir))
	createUser(t, s, "finn", "correct horse battery staple")
	clientID := createLogoutClient(t, s, rp)
	br := newBrowser(t)
	_, idClaims := verifyWithAuthdJWKS(t, s, signInForIDToken(t, s, br, clientID, "finn", "correct horse battery staple"))
	sid := idClaims["sid"].(string)
	_, page := br.get(s.public + "/logout")
	if resp, _ := br.post(s.public+"/logout", hiddenFields(page)); resp.StatusCode != 200 {
		t.Fatalf("sign-out: %d", resp.StatusCode)
	}
	rp.next(t) // refused with 503
	s.stop(t)
	for len(rp.tokens) > 0 { // retries that raced the stop
		<-rp.tokens
	}
	rp.status.Store(http.StatusNoContent)
	s = startServer(t, logoutEnv(dir))
	checkLogoutToken(t, s, rp.next(t), clientID, sid)
}
