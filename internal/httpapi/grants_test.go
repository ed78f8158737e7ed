package httpapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/internal/httpapi"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/store"
	"github.com/authd/authd/internal/token"
)

// RFC 7636 Appendix B.
const (
	rfcVerifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	rfcChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	redirect     = "https://app.example/cb"
)

// userSetup registers a user, a public app and a confidential app.
func userSetup(t testing.TB, configure ...func(*harnessConfig)) (*harness, *store.User) {
	t.Helper()
	h := newHarness(t, configure...)
	u, err := h.accounts.Create(context.Background(), "alice", "correct horse battery staple", "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	h.addClient("spa", "", func(c *oauth.Client) {
		c.TokenEndpointAuthMethod = oauth.AuthMethodNone
		c.GrantTypes = []string{oauth.GrantAuthorizationCode, oauth.GrantRefreshToken}
		c.RedirectURIs = []string{redirect}
		c.Scopes = []string{"openid", "profile", "email", "read"}
	})
	h.addClient("web", "web-secret", func(c *oauth.Client) {
		c.GrantTypes = []string{oauth.GrantAuthorizationCode, oauth.GrantRefreshToken, oauth.GrantPassword}
		c.RedirectURIs = []string{redirect}
		c.Scopes = []string{"openid", "profile", "read"}
		c.AccessTokenFormat = oauth.FormatOpaque
	})
	return h, u
}

// code stores an authorization code as the login flow would and returns it.
func (h *harness) code(value, clientID, subject, scope string, mod func(*store.AuthCode)) string {
	h.t.Helper()
	c := &store.AuthCode{
		Hash:          token.Hash(value),
		ClientID:      clientID,
		RedirectURI:   redirect,
		Subject:       subject,
		Scope:         scope,
		Nonce:         "n-0S6_WzA2Mj",
		CodeChallenge: rfcChallenge,
		AuthTime:      h.clock.Now().Add(-time.Minute),
		GrantID:       "grant-" + value,
		ExpiresAt:     h.clock.Now().Add(time.Minute),
	}
	// As the login page does: the code carries the user's current generation.
	if u, err := h.db.User(context.Background(), subject); err == nil {
		c.UserGeneration = u.Generation
	}
	if mod != nil {
		mod(c)
	}
	if err := h.db.CreateAuthCode(context.Background(), c); err != nil {
		h.t.Fatal(err)
	}
	return value
}

func (h *harness) exchange(form url.Values, opts ...reqOpt) (int, map[string]any) {
	h.t.Helper()
	w := h.postForm(httpapi.PathToken, form, opts...)
	return w.Code, decodeJSON(h.t, w.Body.Bytes())
}

func codeForm(code, clientID string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect},
		"code_verifier": {rfcVerifier}, "client_id": {clientID}}
}

func TestAuthorizationCodeGrant(t *testing.T) {
	h, u := userSetup(t)
	good := h.code("good-code", "spa", u.ID, "openid profile email", nil)
	status, tok := h.exchange(codeForm(good, "spa"))
	if status != 200 || tok["refresh_token"] == nil || tok["id_token"] == nil || tok["scope"] != "openid profile email" {
		t.Fatalf("exchange: %d %v", status, tok)
	}
	claims := verifyWithJWKS(t, h, tok["access_token"].(string))
	if claims["sub"] != u.ID || claims["client_id"] != "spa" || claims["auth_time"] == nil {
		t.Fatalf("access token claims = %v", claims)
	}

	tests := []struct {
		name    string
		code    func() string
		form    func(code string) url.Values
		opts    []reqOpt
		wantErr string
		status  int
	}{
		{"wrong verifier (RFC 7636 B, last char changed)", func() string { return h.code("c1", "spa", u.ID, "openid", nil) },
			func(c string) url.Values {
				f := codeForm(c, "spa")
				f.Set("code_verifier", rfcVerifier[:42]+"Y")
				return f
			}, nil, "invalid_grant", 400},
		{"missing verifier", func() string { return h.code("c2", "spa", u.ID, "openid", nil) },
			func(c string) url.Values { f := codeForm(c, "spa"); f.Del("code_verifier"); return f }, nil, "invalid_request", 400},
		{"redirect_uri mismatch", func() string { return h.code("c3", "spa", u.ID, "openid", nil) },
			func(c string) url.Values { f := codeForm(c, "spa"); f.Set("redirect_uri", redirect+"x"); return f }, nil, "invalid_grant", 400},
		{"redirect_uri omitted", func() string { return h.code("c4", "spa", u.ID, "openid", nil) },
			func(c string) url.Values { f := codeForm(c, "spa"); f.Del("redirect_uri"); return f }, nil, "invalid_grant", 400},
		{"expired", func() string {
			return h.code("c5", "spa", u.ID, "openid", func(c *store.AuthCode) { c.ExpiresAt = h.clock.Now().Add(-time.Second) })
		}, func(c string) url.Values { return codeForm(c, "spa") }, nil, "invalid_grant", 400},
		{"other client's code", func() string { return h.code("c6", "spa", u.ID, "openid", nil) },
			func(c string) url.Values { f := codeForm(c, "web"); f.Del("client_id"); return f }, []reqOpt{withBasic("web", "web-secret")}, "invalid_grant", 400},
		{"unknown code", func() string { return "never-issued" }, func(c string) url.Values { return codeForm(c, "spa") }, nil, "invalid_grant", 400},
		{"missing code", func() string { return "" }, func(c string) url.Values { f := codeForm(c, "spa"); f.Del("code"); return f }, nil, "invalid_request", 400},
		{"public client sends a secret", func() string { return h.code("c7", "spa", u.ID, "openid", nil) },
			func(c string) url.Values { f := codeForm(c, "spa"); f.Set("client_secret", "x"); return f }, nil, "invalid_client", 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := h.exchange(tc.form(tc.code()), tc.opts...)
			if status != tc.status || body["error"] != tc.wantErr {
				t.Fatalf("got %d %v, want %d %s", status, body, tc.status, tc.wantErr)
			}
		})
	}

	t.Run("reused code revokes its tokens", func(t *testing.T) {
		c := h.code("twice", "web", u.ID, "openid read", nil)
		f := codeForm(c, "web")
		f.Del("client_id")
		status, tok := h.exchange(f, withBasic("web", "web-secret"))
		if status != 200 {
			t.Fatalf("first: %d %v", status, tok)
		}
		if h.introspect("web", "web-secret", tok["access_token"].(string))["active"] != true {
			t.Fatal("fresh token inactive")
		}
		status, body := h.exchange(f, withBasic("web", "web-secret"))
		if status != 400 || body["error"] != "invalid_grant" {
			t.Fatalf("second: %d %v", status, body)
		}
		if h.introspect("web", "web-secret", tok["access_token"].(string))["active"] != false {
			t.Fatal("access token of a replayed code still active")
		}
		status, body = h.exchange(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}}, withBasic("web", "web-secret"))
		if status != 400 || body["error"] != "invalid_grant" {
			t.Fatalf("refresh token of a replayed code: %d %v", status, body)
		}
	})

	t.Run("concurrent redemptions: at most one token, then revoked", func(t *testing.T) {
		c := h.code("race", "spa", u.ID, "openid", nil)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var issued []string
		refused := 0
		for range 8 {
			wg.Go(func() {
				w := h.postForm(httpapi.PathToken, codeForm(c, "spa"))
				mu.Lock()
				defer mu.Unlock()
				m := decodeJSON(t, w.Body.Bytes())
				switch {
				case w.Code == 200:
					issued = append(issued, m["access_token"].(string))
				case m["error"] == "invalid_grant":
					refused++
				default:
					t.Errorf("unexpected answer %d %v", w.Code, m)
				}
			})
		}
		wg.Wait()
		// The store lets exactly one redemption through; the other seven are
		// replays, and RFC 6749 §4.1.2 has them revoke what the winner got, so
		// the winner's answer may itself be refused if a replay came first.
		if len(issued) > 1 || refused < 7 {
			t.Fatalf("issued %d, refused %d", len(issued), refused)
		}
		for _, at := range issued {
			if h.introspect("web", "web-secret", at)["active"] != false {
				t.Fatal("the token of a replayed code is still active")
			}
		}
	})
}

func TestRefreshGrant(t *testing.T) {
	h, u := userSetup(t)
	_, tok := h.exchange(codeForm(h.code("r1", "spa", u.ID, "openid read", nil), "spa"))
	rt := tok["refresh_token"].(string)

	// Narrowing is allowed, widening is not (RFC 6749 §6).
	status, body := h.exchange(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"spa"}, "scope": {"read email"}})
	if status != 400 || body["error"] != "invalid_scope" {
		t.Fatalf("widening: %d %v", status, body)
	}
	// A refused request did not spend the token.
	status, tok2 := h.exchange(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"spa"}, "scope": {"read"}})
	if status != 200 || tok2["scope"] != "read" || tok2["refresh_token"] == rt || tok2["id_token"] != nil {
		t.Fatalf("narrowed refresh: %d %v", status, tok2)
	}
	// The family keeps its full scope.
	status, tok3 := h.exchange(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok2["refresh_token"].(string)}, "client_id": {"spa"}})
	if status != 200 || tok3["scope"] != "openid read" || tok3["id_token"] == nil {
		t.Fatalf("family scope: %d %v", status, tok3)
	}

	t.Run("stolen by another client", func(t *testing.T) {
		status, body := h.exchange(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok3["refresh_token"].(string)}}, withBasic("web", "web-secret"))
		if status != 400 || body["error"] != "invalid_grant" {
			t.Fatalf("got %d %v", status, body)
		}
		// The family is dead for its owner too.
		status, body = h.exchange(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok3["refresh_token"].(string)}, "client_id": {"spa"}})
		if status != 400 || body["error"] != "invalid_grant" {
			t.Fatalf("owner after theft: %d %v", status, body)
		}
	})

	t.Run("disabled user", func(t *testing.T) {
		_, tok := h.exchange(codeForm(h.code("r2", "spa", u.ID, "openid", nil), "spa"))
		if err := h.db.SetUserDisabled(context.Background(), u.ID, true, h.clock.Now()); err != nil {
			t.Fatal(err)
		}
		defer h.db.SetUserDisabled(context.Background(), u.ID, false, h.clock.Now())
		status, body := h.exchange(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "client_id": {"spa"}})
		if status != 400 || body["error"] != "invalid_grant" {
			t.Fatalf("got %d %v", status, body)
		}
	})

	t.Run("expired", func(t *testing.T) {
		_, tok := h.exchange(codeForm(h.code("r3", "spa", u.ID, "openid", nil), "spa"))
		h.clock.Advance(31 * 24 * time.Hour)
		status, body := h.exchange(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "client_id": {"spa"}})
		if status != 400 || body["error"] != "invalid_grant" {
			t.Fatalf("got %d %v", status, body)
		}
	})

	t.Run("revocation of a refresh token revokes its grant", func(t *testing.T) {
		h, u := userSetup(t)
		f := codeForm(h.code("r4", "web", u.ID, "read", nil), "web")
		f.Del("client_id")
		_, tok := h.exchange(f, withBasic("web", "web-secret"))
		if w := h.postForm(httpapi.PathRevoke, url.Values{"token": {tok["refresh_token"].(string)}, "token_type_hint": {"refresh_token"}}, withBasic("web", "web-secret")); w.Code != 200 {
			t.Fatalf("revoke: %d %s", w.Code, w.Body)
		}
		if h.introspect("web", "web-secret", tok["access_token"].(string))["active"] != false {
			t.Fatal("access token outlived its revoked grant")
		}
		status, _ := h.exchange(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}}, withBasic("web", "web-secret"))
		if status != 400 {
			t.Fatalf("revoked refresh token: %d", status)
		}
	})
}

func TestPasswordGrant(t *testing.T) {
	h, _ := userSetup(t)
	h.addClient("nopw", "nopw-secret", func(c *oauth.Client) { c.GrantTypes = []string{oauth.GrantClientCredentials} })
	// Registered for the password grant with no secret, as the admin API once allowed.
	h.addClient("pubpw", "", func(c *oauth.Client) {
		c.TokenEndpointAuthMethod = oauth.AuthMethodNone
		c.GrantTypes = []string{oauth.GrantPassword}
		c.Scopes = []string{"openid", "read"}
	})
	pw := func(user, pass string) url.Values {
		return url.Values{"grant_type": {"password"}, "username": {user}, "password": {pass}, "scope": {"openid read"}}
	}
	status, tok := h.exchange(pw("ALICE", "correct horse battery staple"), withBasic("web", "web-secret"))
	if status != 200 || tok["refresh_token"] == nil || tok["id_token"] == nil {
		t.Fatalf("password grant: %d %v", status, tok)
	}
	tests := []struct {
		name    string
		form    url.Values
		opts    []reqOpt
		status  int
		wantErr string
	}{
		{"wrong password", pw("alice", "wrong password"), []reqOpt{withBasic("web", "web-secret")}, 400, "invalid_grant"},
		{"unknown user", pw("mallory", "correct horse battery staple"), []reqOpt{withBasic("web", "web-secret")}, 400, "invalid_grant"},
		{"missing password", url.Values{"grant_type": {"password"}, "username": {"alice"}}, []reqOpt{withBasic("web", "web-secret")}, 400, "invalid_request"},
		{"not enabled for client", pw("alice", "correct horse battery staple"), []reqOpt{withBasic("nopw", "nopw-secret")}, 400, "unauthorized_client"},
		{"public client", func() url.Values { f := pw("alice", "x"); f.Set("client_id", "spa"); return f }(), nil, 400, "unauthorized_client"},
		{"public client registered for it", func() url.Values {
			f := pw("alice", "correct horse battery staple")
			f.Set("client_id", "pubpw")
			return f
		}(), nil, 400, "unauthorized_client"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := h.exchange(tc.form, tc.opts...)
			if status != tc.status || body["error"] != tc.wantErr {
				t.Fatalf("got %d %v", status, body)
			}
			// The same message for unknown users and wrong passwords.
			if tc.wantErr == "invalid_grant" && body["error_description"] != "invalid username or password" {
				t.Fatalf("description = %v", body["error_description"])
			}
		})
	}
}

func TestUserInfo(t *testing.T) {
	h, u := userSetup(t)
	_, withOpenID := h.exchange(codeForm(h.code("u1", "spa", u.ID, "openid profile email", nil), "spa"))
	_, withoutOpenID := h.exchange(codeForm(h.code("u2", "spa", u.ID, "read", nil), "spa"))
	h.addClient("svc", "svc-secret", nil)
	machine := h.token("svc", "svc-secret", nil)

	get := func(opts ...reqOpt) (int, http.Header, map[string]any) {
		w := h.do(http.MethodGet, httpapi.PathUserInfo, "", "", opts...)
		var m map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &m)
		return w.Code, w.Header(), m
	}
	status, _, body := get(withHeader("Authorization", "Bearer "+withOpenID["access_token"].(string)))
	if status != 200 || body["sub"] != u.ID || body["preferred_username"] != "alice" || body["email"] != "alice@example.com" || body["email_verified"] != false {
		t.Fatalf("userinfo: %d %v", status, body)
	}
	// POST with the token in the form body (RFC 6750 §2.2).
	w := h.postForm(httpapi.PathUserInfo, url.Values{"access_token": {withOpenID["access_token"].(string)}})
	if w.Code != 200 {
		t.Fatalf("POST userinfo: %d %s", w.Code, w.Body)
	}
	tests := []struct {
		name       string
		opts       []reqOpt
		wantStatus int
		wantAuth   string
	}{
		{"no token", nil, 401, `Bearer realm="authd"`},
		{"garbage", []reqOpt{withHeader("Authorization", "Bearer nope")}, 401, `Bearer realm="authd", error="invalid_token"`},
		{"basic instead", []reqOpt{withBasic("a", "b")}, 401, `Bearer realm="authd", error="invalid_token"`},
		{"no openid scope", []reqOpt{withHeader("Authorization", "Bearer "+withoutOpenID["access_token"].(string))}, 403, `Bearer realm="authd", error="insufficient_scope"`},
		{"machine token", []reqOpt{withHeader("Authorization", "Bearer "+machine)}, 403, `Bearer realm="authd", error="insufficient_scope"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, hdr, _ := get(tc.opts...)
			if status != tc.wantStatus || hdr.Get("WWW-Authenticate") != tc.wantAuth {
				t.Fatalf("got %d %q", status, hdr.Get("WWW-Authenticate"))
			}
		})
	}
	if err := h.db.SetUserDisabled(context.Background(), u.ID, true, h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := get(withHeader("Authorization", "Bearer "+withOpenID["access_token"].(string))); status != 401 {
		t.Fatalf("disabled user's userinfo: %d", status)
	}
}

func TestIDTokenClaims(t *testing.T) {
	h, u := userSetup(t)
	_, tok := h.exchange(codeForm(h.code("i1", "spa", u.ID, "openid email", nil), "spa"))
	parts := strings.Split(tok["id_token"].(string), ".")
	if len(parts) != 3 {
		t.Fatal("id_token is not a JWS")
	}
	payload, err := h.keys.Verify(context.Background(), tok["id_token"].(string), "JWT")
	if err != nil {
		t.Fatal(err)
	}
	c := decodeJSON(t, payload)
	now := float64(h.clock.Now().Unix())
	if c["iss"] != issuer || c["sub"] != u.ID || c["aud"] != "spa" || c["nonce"] != "n-0S6_WzA2Mj" ||
		c["at_hash"] == nil || c["iat"] != now || c["exp"] != now+3600 || c["auth_time"] != now-60 ||
		c["email"] != "alice@example.com" || c["preferred_username"] != nil {
		t.Fatalf("id_token claims = %v", c)
	}
}

// A grant revoked while its code is being exchanged (a replay on another
// replica) must not hand out the tokens just written.
func TestGrantRevokedDuringExchange(t *testing.T) {
	h, u := userSetup(t)
	c := h.code("mid", "web", u.ID, "openid read", nil)
	// The replay's marker lands between redemption and the answer.
	if err := h.db.Revoke(context.Background(), token.GrantRevocationID("grant-mid"), h.clock.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	f := codeForm(c, "web")
	f.Del("client_id")
	status, body := h.exchange(f, withBasic("web", "web-secret"))
	if status != 400 || body["error"] != "invalid_grant" || body["access_token"] != nil {
		t.Fatalf("exchange of a revoked grant: %d %v", status, body)
	}
}

// The cached client must follow a secret rotation: the old secret stops
// working at once on this replica.
func TestClientCacheFollowsSecretRotation(t *testing.T) {
	h := newHarness(t)
	h.addClient("svc", "old-secret", nil)
	h.token("svc", "old-secret", nil) // caches the client
	sum := sha256.Sum256([]byte("new-secret"))
	if err := h.db.SetClientSecret(context.Background(), "svc", sum[:], nil, h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	h.svc.InvalidateClient(context.Background(), "svc")
	w := h.postForm(httpapi.PathToken, url.Values{"grant_type": {"client_credentials"}}, withBasic("svc", "old-secret"))
	if w.Code != 401 {
		t.Fatalf("old secret after rotation: %d", w.Code)
	}
	h.token("svc", "new-secret", nil)
}

// Deleting a person revokes every token they hold, both formats.
func TestDeletedUserTokensInactive(t *testing.T) {
	h, u := userSetup(t)
	_, spa := h.exchange(codeForm(h.code("d1", "spa", u.ID, "openid read", nil), "spa"))
	f := codeForm(h.code("d2", "web", u.ID, "read", nil), "web")
	f.Del("client_id")
	_, web := h.exchange(f, withBasic("web", "web-secret"))
	for _, tok := range []string{spa["access_token"].(string), web["access_token"].(string)} {
		if h.introspect("web", "web-secret", tok)["active"] != true {
			t.Fatal("fresh token inactive")
		}
	}
	ctx := context.Background()
	if err := h.accounts.Delete(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{spa["access_token"].(string), web["access_token"].(string)} {
		if got := h.introspect("web", "web-secret", tok); got["active"] != false {
			t.Fatalf("token of a deleted user: %v", got)
		}
	}
	// Other people's tokens are untouched.
	other, err := h.accounts.Create(ctx, "bob", "another fine passphrase", "")
	if err != nil {
		t.Fatal(err)
	}
	_, bob := h.exchange(codeForm(h.code("d3", "spa", other.ID, "read", nil), "spa"))
	if h.introspect("web", "web-secret", bob["access_token"].(string))["active"] != true {
		t.Fatal("another user's token was revoked")
	}
}
