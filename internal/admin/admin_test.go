package admin_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/internal/account"
	"github.com/authd/authd/internal/admin"
	"github.com/authd/authd/internal/client"
	"github.com/authd/authd/internal/keys"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/password"
	"github.com/authd/authd/internal/secevent"
	"github.com/authd/authd/internal/store"
	"github.com/authd/authd/internal/store/sqlite"
	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/internal/testenv/dbtest"
)

const adminToken = "test-admin-token-0123456789abcdef0123456789"

type harness struct {
	t       *testing.T
	db      *sqlite.DB
	keys    *keys.Manager
	srv     *admin.Server
	changed []string
	// users are the users whose cached state was dropped (account.UserChanges).
	users []string
	logs  *testenv.Buffer
}

type userChanges struct{ h *harness }

func (u userChanges) InvalidateUser(_ context.Context, id string) error {
	u.h.users = append(u.h.users, id)
	return nil
}

// harnessOpts are what a test may change of the admin API and the client
// service behind it.
type harnessOpts struct {
	admin  admin.Options
	client client.Options
}

func newHarness(t *testing.T, configure ...func(*harnessOpts)) *harness {
	ctx := context.Background()
	db := dbtest.SQLite(t)
	sealer, _ := keys.NewSealer(make([]byte, 32))
	km, err := keys.NewManager(db, sealer, keys.Options{Retain: time.Hour, Purposes: []keys.Purpose{
		{Name: keys.PurposeAccess, Algorithm: keys.ES256}, {Name: keys.PurposeIDToken, Algorithm: keys.EdDSA}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := km.Load(ctx); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, db: db, keys: km, logs: &testenv.Buffer{}}
	hasher := password.New(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, password.Limits{})
	acct := account.New(db, hasher, password.Policy{}, account.Options{Changes: userChanges{h}})
	o := harnessOpts{
		admin: admin.Options{Token: adminToken},
		client: client.Options{
			MaxTokenTTL: 24 * time.Hour,
			Grants:      []string{oauth.GrantClientCredentials, oauth.GrantAuthorizationCode, oauth.GrantRefreshToken},
			Changed:     func(_ context.Context, id string) { h.changed = append(h.changed, id) },
		},
	}
	for _, c := range configure {
		c(&o)
	}
	if o.client.Events == nil {
		o.client.Events = o.admin.Events
	}
	clients := client.New(db, o.client)
	log := slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h.srv = admin.New(admin.Deps{Clients: clients, Keys: km, Users: db, Accounts: acct, Scopes: db}, log, o.admin)
	return h
}

func (h *harness) do(method, path, body string, token string) (*httptest.ResponseRecorder, map[string]any) {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.srv.ServeHTTP(w, r)
	var m map[string]any
	if w.Body.Len() > 0 {
		if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
			h.t.Fatalf("body %q: %v", w.Body, err)
		}
	}
	return w, m
}

func TestAuth(t *testing.T) {
	h := newHarness(t)
	for _, tok := range []string{"", "wrong", adminToken + "x"} {
		w, m := h.do("GET", "/admin/clients", "", tok)
		if w.Code != 401 || w.Header().Get("Content-Type") != "application/problem+json" || m["status"] != float64(401) {
			t.Fatalf("token %q: %d %v", tok, w.Code, m)
		}
	}
	if w, _ := h.do("GET", "/admin/clients", "", adminToken); w.Code != 200 {
		t.Fatalf("valid token: %d", w.Code)
	}
}

func TestClientLifecycle(t *testing.T) {
	h := newHarness(t)
	w, m := h.do("POST", "/admin/clients", `{"client_name":"Demo","scope":"read write","access_token_format":"opaque","access_token_ttl":600}`, adminToken)
	if w.Code != 201 {
		t.Fatalf("create: %d %v", w.Code, m)
	}
	id, _ := m["client_id"].(string)
	secret, _ := m["client_secret"].(string)
	if id == "" || len(secret) != 43 || w.Header().Get("Location") != "/admin/clients/"+id {
		t.Fatalf("create response %v, Location %q", m, w.Header().Get("Location"))
	}
	if gt := m["grant_types"].([]any); len(gt) != 1 || gt[0] != "client_credentials" {
		t.Errorf("default grant types = %v", gt)
	}
	stored, err := h.db.Client(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(secret))
	if string(stored.SecretHash) != string(sum[:]) || stored.AccessTokenFormat != "opaque" || stored.AccessTokenTTL != 10*time.Minute {
		t.Fatalf("stored = %+v", stored)
	}
	// The secret is never shown again.
	w, m = h.do("GET", "/admin/clients/"+id, "", adminToken)
	if w.Code != 200 || m["client_secret"] != nil || m["client_name"] != "Demo" {
		t.Fatalf("get: %d %v", w.Code, m)
	}
	w, m = h.do("GET", "/admin/clients", "", adminToken)
	if w.Code != 200 || len(m["clients"].([]any)) != 1 || strings.Contains(w.Body.String(), secret) {
		t.Fatalf("list: %d %v", w.Code, m)
	}
	w, m = h.do("POST", "/admin/clients/"+id+"/secret", "", adminToken)
	newSecret, _ := m["client_secret"].(string)
	if w.Code != 200 || len(newSecret) != 43 || newSecret == secret {
		t.Fatalf("rotate secret: %d %v", w.Code, m)
	}
	w, _ = h.do("DELETE", "/admin/clients/"+id, "", adminToken)
	if w.Code != 204 {
		t.Fatalf("delete: %d", w.Code)
	}
	if w, _ = h.do("GET", "/admin/clients/"+id, "", adminToken); w.Code != 404 {
		t.Fatalf("get after delete: %d", w.Code)
	}
	if w, _ = h.do("DELETE", "/admin/clients/"+id, "", adminToken); w.Code != 404 {
		t.Fatalf("delete twice: %d", w.Code)
	}
	if len(h.changed) != 3 {
		t.Errorf("OnClientChange calls = %v, want create, rotate, delete", h.changed)
	}
}

func TestCreateClientErrors(t *testing.T) {
	h := newHarness(t)
	if w, _ := h.do("POST", "/admin/clients", `{"client_id":"taken"}`, adminToken); w.Code != 201 {
		t.Fatal(w.Body)
	}
	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantField  string
	}{
		{"duplicate id", `{"client_id":"taken"}`, 409, ""},
		{"bad id", `{"client_id":"has space"}`, 400, "client_id"},
		{"not json", `{`, 400, ""},
		{"wrong type", `{"scope":42}`, 400, "scope"},
		{"two objects", `{}{}`, 400, ""},
		{"unknown grant", `{"grant_types":["implicit"]}`, 400, "grant_types"},
		{"password not served", `{"grant_types":["password"]}`, 400, "grant_types"},
		{"code without redirect", `{"grant_types":["authorization_code"]}`, 400, "redirect_uris"},
		{"http redirect", `{"redirect_uris":["http://app.example/cb"]}`, 400, "redirect_uris"},
		{"fragment redirect", `{"redirect_uris":["https://app.example/cb#x"]}`, 400, "redirect_uris"},
		{"relative redirect", `{"redirect_uris":["/cb"]}`, 400, "redirect_uris"},
		{"javascript redirect", `{"redirect_uris":["javascript:alert(1)"]}`, 400, "redirect_uris"},
		{"http post-logout redirect", `{"post_logout_redirect_uris":["http://app.example/bye"]}`, 400, "post_logout_redirect_uris"},
		{"fragment post-logout redirect", `{"post_logout_redirect_uris":["https://app.example/bye#x"]}`, 400, "post_logout_redirect_uris"},
		{"relative post-logout redirect", `{"post_logout_redirect_uris":["/bye"]}`, 400, "post_logout_redirect_uris"},
		{"empty post-logout redirect", `{"post_logout_redirect_uris":[""]}`, 400, "post_logout_redirect_uris"},
		{"javascript post-logout redirect", `{"post_logout_redirect_uris":["javascript:alert(1)"]}`, 400, "post_logout_redirect_uris"},
		{"post-logout redirects not a list", `{"post_logout_redirect_uris":"https://app.example/bye"}`, 400, "post_logout_redirect_uris"},
		{"bad auth method", `{"token_endpoint_auth_method":"client_secret_magic"}`, 400, "token_endpoint_auth_method"},
		{"private_key_jwt without keys", `{"token_endpoint_auth_method":"private_key_jwt"}`, 400, "jwks"},
		{"public client_credentials", `{"token_endpoint_auth_method":"none","grant_types":["client_credentials"]}`, 400, "grant_types"},
		{"bad format", `{"access_token_format":"paseto"}`, 400, "access_token_format"},
		{"ttl too long", `{"access_token_ttl":999999}`, 400, "access_token_ttl"},
		{"ttl negative", `{"access_token_ttl":-1}`, 400, "access_token_ttl"},
		{"bad scope", `{"scope":"a\"b"}`, 400, "scope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, m := h.do("POST", "/admin/clients", tc.body, adminToken)
			if w.Code != tc.wantStatus || w.Header().Get("Content-Type") != "application/problem+json" {
				t.Fatalf("got %d %v", w.Code, m)
			}
			if m["title"] != http.StatusText(tc.wantStatus) || m["detail"] == "" {
				t.Errorf("problem = %v", m)
			}
			if tc.wantField != "" && m["field"] != tc.wantField {
				t.Errorf("field = %v, want %s", m["field"], tc.wantField)
			}
		})
	}
	// Loopback http and private-use schemes are fine (RFC 8252).
	for _, uri := range []string{"http://127.0.0.1:9000/cb", "http://localhost/cb", "com.example.app:/cb", "https://app.example/cb?x=1"} {
		w, m := h.do("POST", "/admin/clients", `{"redirect_uris":["`+uri+`"],"token_endpoint_auth_method":"none"}`, adminToken)
		if w.Code != 201 {
			t.Errorf("%s: %d %v", uri, w.Code, m)
		}
	}
	// A public client gets no secret.
	_, m := h.do("POST", "/admin/clients", `{"redirect_uris":["https://app.example/cb"],"token_endpoint_auth_method":"none"}`, adminToken)
	if _, ok := m["client_secret"]; ok {
		t.Error("public client got a secret")
	}
	if w, _ := h.do("POST", "/admin/clients/"+m["client_id"].(string)+"/secret", "", adminToken); w.Code != 409 {
		t.Errorf("rotate secret of public client: %d", w.Code)
	}
}

func TestRotateKey(t *testing.T) {
	h := newHarness(t)
	before := h.keys.CurrentKeyID("")
	w, m := h.do("POST", "/admin/keys/rotate", "", adminToken)
	if w.Code != 200 || m["kid"] == before || m["kid"] != h.keys.CurrentKeyID("") {
		t.Fatalf("rotate: %d %v (before %s)", w.Code, m, before)
	}
	// The old key stays published so tokens it signed still verify.
	if !strings.Contains(string(h.keys.JWKS()), before) {
		t.Fatal("old key left the JWKS at once")
	}
	idBefore := h.keys.CurrentKeyID(keys.PurposeIDToken)
	w, m = h.do("POST", "/admin/keys/rotate", `{"algorithm":"EdDSA"}`, adminToken)
	if w.Code != 200 || m["algorithm"] != "EdDSA" {
		t.Fatalf("rotate EdDSA: %d %v", w.Code, m)
	}
	w, m = h.do("POST", "/admin/keys/rotate", `{"purpose":"id_token","immediate":true}`, adminToken)
	if w.Code != 200 || m["algorithm"] != "EdDSA" || h.keys.CurrentKeyID(keys.PurposeIDToken) == idBefore {
		t.Fatalf("rotate the id_token key: %d %v", w.Code, m)
	}
	for body, field := range map[string]string{
		`{"algorithm":"RS256"}`:                    "algorithm", // no key of it in use
		`{"purpose":"refresh"}`:                    "purpose",
		`{"purpose":"access","algorithm":"ES256"}`: "purpose",
	} {
		if w, m := h.do("POST", "/admin/keys/rotate", body, adminToken); w.Code != 400 || m["field"] != field {
			t.Errorf("rotate %s: %d %v, want 400 naming %s", body, w.Code, m, field)
		}
	}
	w, m = h.do("POST", "/admin/keys/rotate", `{"immediate":true}`, adminToken)
	if w.Code != 200 || m["kid"] != h.keys.CurrentKeyID("") || m["active_at"] == nil {
		t.Fatalf("immediate rotate: %d %v", w.Code, m)
	}
	if w, _ = h.do("POST", "/admin/keys/rotate", `{"algorithm":"HS256"}`, adminToken); w.Code != 400 {
		t.Fatalf("rotate HS256: %d", w.Code)
	}
}

func TestUsers(t *testing.T) {
	h := newHarness(t)
	w, m := h.do("POST", "/admin/users", `{"username":"Alice","password":"correct horse battery staple","email":"alice@example.com"}`, adminToken)
	if w.Code != 201 || m["username"] != "alice" || m["id"] == "" {
		t.Fatalf("create: %d %v", w.Code, m)
	}
	id := m["id"].(string)
	if strings.Contains(w.Body.String(), "argon2") || strings.Contains(w.Body.String(), "horse") {
		t.Fatalf("response leaks the password or its hash: %s", w.Body)
	}
	stored, err := h.db.User(context.Background(), id)
	if err != nil || !strings.HasPrefix(stored.PasswordHash, "$argon2id$") {
		t.Fatalf("stored = %+v, %v", stored, err)
	}
	tests := []struct {
		name       string
		method     string
		path, body string
		wantStatus int
		wantField  string
	}{
		{"duplicate (case-folded)", "POST", "/admin/users", `{"username":"ALICE","password":"another good passphrase"}`, 409, "username"},
		{"common password", "POST", "/admin/users", `{"username":"bob","password":"password1"}`, 400, "password"},
		{"short password", "POST", "/admin/users", `{"username":"bob","password":"short"}`, 400, "password"},
		{"missing password", "POST", "/admin/users", `{"username":"bob"}`, 400, "password"},
		{"bad username", "POST", "/admin/users", `{"username":"a b","password":"a fine long passphrase"}`, 400, "username"},
		{"bad email", "POST", "/admin/users", `{"username":"bob","password":"a fine long passphrase","email":"nope"}`, 400, "email"},
		{"set password: common", "POST", "/admin/users/" + id + "/password", `{"password":"qwerty123"}`, 400, "password"},
		{"set password: unknown user", "POST", "/admin/users/nobody/password", `{"password":"a fine long passphrase"}`, 404, ""},
		{"patch nothing", "PATCH", "/admin/users/" + id, `{}`, 400, ""},
		{"patch bad email", "PATCH", "/admin/users/" + id, `{"email":"not an address"}`, 400, "email"},
		{"patch control character in name", "PATCH", "/admin/users/" + id, `{"name":"a\u0007b"}`, 400, "name"},
		{"patch verified without an address", "PATCH", "/admin/users/" + id, `{"email":"","email_verified":true}`, 400, "email_verified"},
		{"patch unknown user", "PATCH", "/admin/users/nobody", `{"name":"x"}`, 404, ""},
		{"get unknown", "GET", "/admin/users/nobody", "", 404, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, m := h.do(tc.method, tc.path, tc.body, adminToken)
			if w.Code != tc.wantStatus || w.Header().Get("Content-Type") != "application/problem+json" {
				t.Fatalf("got %d %v", w.Code, m)
			}
			if tc.wantField != "" && m["field"] != tc.wantField {
				t.Errorf("field = %v, want %s", m["field"], tc.wantField)
			}
		})
	}
	if w, _ := h.do("POST", "/admin/users/"+id+"/password", `{"password":"a brand new passphrase"}`, adminToken); w.Code != 204 {
		t.Fatalf("set password: %d", w.Code)
	}
	if len(h.users) != 1 || h.users[0] != id {
		t.Fatalf("a password reset did not end the user's tokens (cached state dropped for %v)", h.users)
	}
	if w, m := h.do("PATCH", "/admin/users/"+id, `{"disabled":true}`, adminToken); w.Code != 200 || m["disabled"] != true {
		t.Fatalf("disable: %d %v", w.Code, m)
	}
	if len(h.users) != 2 {
		t.Fatalf("disabling did not end the user's tokens (cached state dropped for %v)", h.users)
	}
	if w, m := h.do("GET", "/admin/users", "", adminToken); w.Code != 200 || len(m["users"].([]any)) != 1 {
		t.Fatalf("list: %d %v", w.Code, m)
	}
	if w, _ := h.do("DELETE", "/admin/users/"+id, "", adminToken); w.Code != 204 {
		t.Fatalf("delete: %d", w.Code)
	}
	if len(h.users) != 3 || h.users[2] != id {
		t.Fatalf("tokens of the deleted user not ended: %v", h.users)
	}
	if w, _ := h.do("DELETE", "/admin/users/"+id, "", adminToken); w.Code != 404 || len(h.users) != 3 {
		t.Fatalf("deleting twice: %d, changes %v", w.Code, h.users)
	}
	if w, _ := h.do("GET", "/admin/users/"+id, "", adminToken); w.Code != 404 {
		t.Fatalf("get after delete: %d", w.Code)
	}
}

func TestUpdateClient(t *testing.T) {
	h := newHarness(t)
	_, m := h.do("POST", "/admin/clients", `{"client_id":"app","scope":"read","redirect_uris":["https://a.example/cb"],"grant_types":["authorization_code"]}`, adminToken)
	secret := m["client_secret"].(string)
	before, _ := h.db.Client(context.Background(), "app")
	w, m := h.do("PUT", "/admin/clients/app", `{"scope":"read write","redirect_uris":["https://a.example/cb","https://b.example/cb"],"grant_types":["authorization_code","refresh_token"],"client_name":"App"}`, adminToken)
	if w.Code != 200 || m["scope"] != "read write" || m["client_secret"] != nil || len(m["redirect_uris"].([]any)) != 2 {
		t.Fatalf("update: %d %v", w.Code, m)
	}
	after, _ := h.db.Client(context.Background(), "app")
	sum := sha256.Sum256([]byte(secret))
	if string(after.SecretHash) != string(sum[:]) || !after.CreatedAt.Equal(before.CreatedAt) || after.Name != "App" {
		t.Fatalf("secret or creation time changed: %+v", after)
	}
	if len(h.changed) < 2 || h.changed[len(h.changed)-1] != "app" {
		t.Errorf("caches not told: %v", h.changed)
	}
	tests := []struct {
		name, path, body string
		wantStatus       int
	}{
		{"unknown client", "/admin/clients/ghost", `{}`, 404},
		{"id mismatch", "/admin/clients/app", `{"client_id":"other"}`, 400},
		{"invalid metadata", "/admin/clients/app", `{"redirect_uris":["http://evil.example/cb"]}`, 400},
		{"confidential to public", "/admin/clients/app", `{"token_endpoint_auth_method":"none","redirect_uris":["https://a.example/cb"]}`, 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if w, m := h.do("PUT", tc.path, tc.body, adminToken); w.Code != tc.wantStatus {
				t.Fatalf("got %d %v", w.Code, m)
			}
		})
	}
}

// TestPostLogoutRedirectURIs: the RP-Initiated Logout metadata (§3.1) is
// stored, returned by every read, and replaced by an update.
func TestPostLogoutRedirectURIs(t *testing.T) {
	h := newHarness(t)
	uris := func(m map[string]any) []string {
		var out []string
		if l, ok := m["post_logout_redirect_uris"].([]any); ok {
			for _, u := range l {
				out = append(out, u.(string))
			}
		}
		return out
	}
	want := []string{"https://a.example/bye?x=1", "http://127.0.0.1:9000/bye", "com.example.app:/bye"}
	w, m := h.do("POST", "/admin/clients", `{"client_id":"app","redirect_uris":["https://a.example/cb"],
		"post_logout_redirect_uris":["https://a.example/bye?x=1","http://127.0.0.1:9000/bye","com.example.app:/bye"]}`, adminToken)
	if w.Code != 201 || !slices.Equal(uris(m), want) {
		t.Fatalf("create: %d %v", w.Code, m)
	}
	if c, err := h.db.Client(context.Background(), "app"); err != nil || !slices.Equal(c.PostLogoutRedirectURIs, want) {
		t.Fatalf("stored: %v %v", c, err)
	}
	if _, m := h.do("GET", "/admin/clients/app", "", adminToken); !slices.Equal(uris(m), want) {
		t.Errorf("get: %v", m)
	}
	_, m = h.do("GET", "/admin/clients", "", adminToken)
	if l := m["clients"].([]any); len(l) != 1 || !slices.Equal(uris(l[0].(map[string]any)), want) {
		t.Errorf("list: %v", m)
	}
	// RFC 7592 §2.2: an update replaces the metadata; leaving the member out clears it.
	w, m = h.do("PUT", "/admin/clients/app", `{"redirect_uris":["https://a.example/cb"],"post_logout_redirect_uris":["https://b.example/bye"]}`, adminToken)
	if w.Code != 200 || !slices.Equal(uris(m), []string{"https://b.example/bye"}) {
		t.Fatalf("update: %d %v", w.Code, m)
	}
	if w, m = h.do("PUT", "/admin/clients/app", `{"redirect_uris":["https://a.example/cb"],"post_logout_redirect_uris":["http://b.example/bye"]}`, adminToken); w.Code != 400 || m["field"] != "post_logout_redirect_uris" {
		t.Fatalf("invalid update: %d %v", w.Code, m)
	}
	w, m = h.do("PUT", "/admin/clients/app", `{"redirect_uris":["https://a.example/cb"]}`, adminToken)
	if _, present := m["post_logout_redirect_uris"]; w.Code != 200 || present {
		t.Fatalf("update without the member: %d %v", w.Code, m)
	}
	if c, err := h.db.Client(context.Background(), "app"); err != nil || len(c.PostLogoutRedirectURIs) != 0 {
		t.Fatalf("stored after clearing: %v %v", c, err)
	}
}

// TestUserProfile: an administrator sets the profile claims (oauth2-proxy
// refuses every login while email_verified is false); a new address is
// unverified unless the same request says otherwise.
func TestUserProfile(t *testing.T) {
	h := newHarness(t)
	_, m := h.do("POST", "/admin/users", `{"username":"carol","password":"correct horse battery staple","email":"carol@example.com"}`, adminToken)
	id := m["id"].(string)
	steps := []struct {
		body string
		want map[string]any
	}{
		{`{"email_verified":true,"name":"Carol Ü","given_name":"Carol","family_name":"Ü"}`,
			map[string]any{"email": "carol@example.com", "email_verified": true, "name": "Carol Ü", "given_name": "Carol", "family_name": "Ü"}},
		{`{"email":"carol@example.org"}`, map[string]any{"email": "carol@example.org", "email_verified": false, "name": "Carol Ü"}},
		{`{"email":"carol@example.net","email_verified":true}`, map[string]any{"email": "carol@example.net", "email_verified": true}},
		{`{"email":"carol@example.net"}`, map[string]any{"email_verified": true}}, // the same address stays verified
		{`{"name":"  Carol  ","disabled":true}`, map[string]any{"name": "Carol", "disabled": true, "email_verified": true}},
		{`{"phone_number":"+1 555 0100","phone_number_verified":true}`, map[string]any{"phone_number": "+1 555 0100", "phone_number_verified": true}},
		{`{"phone_number":"+1 555 0199"}`, map[string]any{"phone_number": "+1 555 0199", "phone_number_verified": false}},
		{`{"address":{"locality":"Springfield","country":"US"}}`, map[string]any{"phone_number": "+1 555 0199"}},
	}
	for i, st := range steps {
		w, got := h.do("PATCH", "/admin/users/"+id, st.body, adminToken)
		if w.Code != 200 {
			t.Fatalf("step %d %s: %d %v", i, st.body, w.Code, got)
		}
		for k, v := range st.want {
			if got[k] != v {
				t.Fatalf("step %d %s: %s = %v, want %v (%v)", i, st.body, k, got[k], v, got)
			}
		}
	}
	u, err := h.db.User(context.Background(), id)
	if err != nil || u.Email != "carol@example.net" || !u.EmailVerified || u.Name != "Carol" || !u.Disabled ||
		u.Address == nil || u.Address.Locality != "Springfield" {
		t.Fatalf("stored: %+v, %v", u, err)
	}
	if w, got := h.do("PATCH", "/admin/users/"+id, `{"phone_number":"ring ring"}`, adminToken); w.Code != 400 {
		t.Fatalf("a phone number of words: %d %v", w.Code, got)
	}
	// The path takes a username too (case-folded as at login).
	if w, got := h.do("GET", "/admin/users/CAROL", "", adminToken); w.Code != 200 || got["id"] != id {
		t.Fatalf("GET by username: %d %v", w.Code, got)
	}
}

// TestAllowedCORSOrigins: allowed_cors_origins is validated as exact origins,
// returned by create and by an RFC 7592 update, and replaced by the update.
func TestAllowedCORSOrigins(t *testing.T) {
	h := newHarness(t)
	origins := func(m map[string]any) []string {
		var out []string
		if l, ok := m["allowed_cors_origins"].([]any); ok {
			for _, o := range l {
				out = append(out, o.(string))
			}
		}
		return out
	}
	w, m := h.do("POST", "/admin/clients", `{"client_id":"spa","token_endpoint_auth_method":"none","redirect_uris":["https://spa.example/cb"],
		"allowed_cors_origins":["https://spa.example","http://localhost:5173","http://[::1]:8080","https://spa.example"]}`, adminToken)
	want := []string{"http://[::1]:8080", "http://localhost:5173", "https://spa.example"}
	if w.Code != 201 || !slices.Equal(origins(m), want) {
		t.Fatalf("create: %d %v", w.Code, m)
	}
	w, m = h.do("PUT", "/admin/clients/spa", `{"token_endpoint_auth_method":"none","redirect_uris":["https://spa.example/cb"],"allowed_cors_origins":["https://b.example"]}`, adminToken)
	if w.Code != 200 || !slices.Equal(origins(m), []string{"https://b.example"}) {
		t.Fatalf("update: %d %v", w.Code, m)
	}
	if c, err := h.db.Client(context.Background(), "spa"); err != nil || !slices.Equal(c.AllowedCORSOrigins, []string{"https://b.example"}) {
		t.Fatalf("stored: %v, %v", c, err)
	}
	if _, m := h.do("GET", "/admin/clients/spa", "", adminToken); !slices.Equal(origins(m), []string{"https://b.example"}) {
		t.Errorf("get: %v", m)
	}
	w, m = h.do("PUT", "/admin/clients/spa", `{"token_endpoint_auth_method":"none","redirect_uris":["https://spa.example/cb"]}`, adminToken)
	if _, present := m["allowed_cors_origins"]; w.Code != 200 || present {
		t.Fatalf("update without the member: %d %v", w.Code, m)
	}

	tests := []struct {
		name   string
		origin string
	}{
		{"wildcard", `*`},
		{"wildcard subdomain", `https://*.example`},
		{"null", `null`},
		{"path", `https://spa.example/`},
		{"longer path", `https://spa.example/app`},
		{"query", `https://spa.example?x=1`},
		{"fragment", `https://spa.example#x`},
		{"userinfo", `https://user@spa.example`},
		{"default port spelled out", `https://spa.example:443`},
		{"upper case", `https://SPA.example`},
		{"http off loopback", `http://spa.example`},
		{"ftp", `ftp://spa.example`},
		{"no scheme", `spa.example`},
		{"empty", ``},
		{"private-use scheme", `com.example.app:`},
		{"unicode host", `https://bücher.example`},
		{"too long", "https://" + strings.Repeat("a", 400) + ".example"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body, _ := json.Marshal(map[string]any{"allowed_cors_origins": []string{tc.origin}})
			for _, req := range []struct{ method, path string }{{"POST", "/admin/clients"}, {"PUT", "/admin/clients/spa"}} {
				w, m := h.do(req.method, req.path, string(body), adminToken)
				if w.Code != 400 || m["field"] != "allowed_cors_origins" || m["detail"] == "" {
					t.Fatalf("%s: got %d %v", req.method, w.Code, m)
				}
			}
		})
	}
	t.Run("too many", func(t *testing.T) {
		var many []string
		for i := range 51 {
			many = append(many, "https://o"+strconv.Itoa(i)+".example")
		}
		body, _ := json.Marshal(map[string]any{"allowed_cors_origins": many})
		if w, m := h.do("POST", "/admin/clients", string(body), adminToken); w.Code != 400 || m["field"] != "allowed_cors_origins" {
			t.Fatalf("got %d %v", w.Code, m)
		}
	})
	t.Run("canonical form suggested", func(t *testing.T) {
		_, m := h.do("POST", "/admin/clients", `{"allowed_cors_origins":["https://SPA.example:443"]}`, adminToken)
		if d, _ := m["detail"].(string); !strings.Contains(d, `"https://spa.example"`) {
			t.Fatalf("detail = %q", d)
		}
	})
}

// TestPublicPasswordGrantRefused: a client without a secret cannot register
// the password grant, at creation or by an update.
func TestPublicPasswordGrantRefused(t *testing.T) {
	h := newHarness(t, func(o *harnessOpts) {
		o.client.Grants = append(o.client.Grants, oauth.GrantPassword)
	})
	w, m := h.do("POST", "/admin/clients", `{"client_id":"legacy","grant_types":["password"]}`, adminToken)
	if w.Code != 201 {
		t.Fatalf("confidential password client: %d %v", w.Code, m)
	}
	w, m = h.do("POST", "/admin/clients", `{"client_id":"pub","token_endpoint_auth_method":"none","redirect_uris":["https://a.example/cb"],"grant_types":["authorization_code","password"]}`, adminToken)
	if w.Code != 400 || m["field"] != "grant_types" || !strings.Contains(m["detail"].(string), "password") {
		t.Fatalf("public password client: %d %v", w.Code, m)
	}
	if _, err := h.db.Client(context.Background(), "pub"); err == nil {
		t.Fatal("refused client was stored")
	}
	if w, m = h.do("POST", "/admin/clients", `{"client_id":"pub","token_endpoint_auth_method":"none","redirect_uris":["https://a.example/cb"]}`, adminToken); w.Code != 201 {
		t.Fatalf("public client: %d %v", w.Code, m)
	}
	w, m = h.do("PUT", "/admin/clients/pub", `{"token_endpoint_auth_method":"none","redirect_uris":["https://a.example/cb"],"grant_types":["authorization_code","password"]}`, adminToken)
	if w.Code != 400 || m["field"] != "grant_types" {
		t.Fatalf("update to password: %d %v", w.Code, m)
	}
	if c, _ := h.db.Client(context.Background(), "pub"); c.AllowsGrant(oauth.GrantPassword) {
		t.Fatal("refused update was stored")
	}
}

// TestAdminAccessLog: one INFO line per request with the route and status,
// never the admin token.
func TestAdminAccessLog(t *testing.T) {
	h := newHarness(t, func(o *harnessOpts) { o.admin.AccessLog = true })
	w, _ := h.do("GET", "/admin/clients?x=leak-me", "", adminToken)
	h.do("GET", "/admin/clients", "", "wrong-token")
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(h.logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		if m["msg"] == "request" {
			lines = append(lines, m)
		}
	}
	if len(lines) != 2 || lines[0]["level"] != "INFO" || lines[0]["route"] != "GET /admin/clients" || lines[0]["status"] != 200.0 ||
		lines[0]["path"] != "/admin/clients" || lines[0]["request_id"] != w.Header().Get("X-Request-Id") || lines[1]["status"] != 401.0 {
		t.Fatalf("lines = %v", lines)
	}
	if all := h.logs.String(); strings.Contains(all, adminToken) || strings.Contains(all, "wrong-token") || strings.Contains(all, "leak-me") {
		t.Fatalf("log carries a token or query: %s", all)
	}
}

// TestAdminClientHangUp: a caller that hangs up is not an admin failure.
func TestAdminClientHangUp(t *testing.T) {
	h := newHarness(t, func(o *harnessOpts) { o.admin.AccessLog = true })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := httptest.NewRequestWithContext(ctx, "GET", "/admin/clients", nil)
	r.Header.Set("Authorization", "Bearer "+adminToken)
	w := httptest.NewRecorder()
	h.srv.ServeHTTP(w, r)
	if w.Code != 499 || strings.Contains(h.logs.String(), `"level":"ERROR"`) {
		t.Fatalf("%d %s", w.Code, h.logs.String())
	}
}

// recorder is a secevent.Emitter that keeps what it is given.
type recorder struct {
	mu     sync.Mutex
	events []secevent.Event
}

func (r *recorder) Emit(e secevent.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) types() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		out = append(out, e.Type)
	}
	return out
}

// Every administrator action and every admin-token failure reaches the audit
// trail with the caller's address, never with a token or a secret.
func TestAdminAudit(t *testing.T) {
	rec := &recorder{}
	h := newHarness(t, func(o *harnessOpts) { o.admin.Events = rec })
	h.do("GET", "/admin/clients", "", "")
	h.do("GET", "/admin/clients", "", "not-the-token")
	_, m := h.do("POST", "/admin/users", `{"username":"dave","password":"correct horse battery staple"}`, adminToken)
	id := m["id"].(string)
	h.do("POST", "/admin/users/"+id+"/password", `{"password":"a brand new passphrase"}`, adminToken)
	h.do("PATCH", "/admin/users/"+id, `{"name":"Dave","disabled":true}`, adminToken)
	h.do("PATCH", "/admin/users/"+id, `{"disabled":false}`, adminToken)
	h.do("POST", "/admin/users/"+id+"/unlock", "", adminToken)
	_, c := h.do("POST", "/admin/clients", `{"client_name":"svc"}`, adminToken)
	cid := c["client_id"].(string)
	h.do("POST", "/admin/clients/"+cid+"/secret", "", adminToken)
	want := []string{secevent.AdminAuthFailed, secevent.AdminAuthFailed, secevent.AdminUserCreated,
		secevent.UserPasswordChanged, secevent.UserUpdated, secevent.UserDisabled, secevent.UserEnabled,
		secevent.UserUnlocked, secevent.AdminClientCreated, secevent.AdminClientSecretRotated}
	if got := rec.types(); !slices.Equal(got, want) {
		t.Fatalf("events %q\nwant   %q", got, want)
	}
	for _, e := range rec.events {
		if e.IP == "" {
			t.Errorf("%s without the caller's address", e.Type)
		}
		for _, v := range e.Detail {
			if strings.Contains(v, "not-the-token") || strings.Contains(v, c["client_secret"].(string)) {
				t.Errorf("%s carries a credential: %v", e.Type, e.Detail)
			}
		}
	}
}

// failingUsers fails every read with err.
type failingUsers struct{ err error }

func (f failingUsers) User(context.Context, string) (*store.User, error) { return nil, f.err }
func (f failingUsers) ListUsers(context.Context) ([]*store.User, error)  { return nil, f.err }

// An unavailable or slow dependency is 503 with Retry-After, as at the OAuth
// endpoints, never 500.
func TestUnavailableIs503(t *testing.T) {
	for name, err := range map[string]error{
		"store unavailable": fmt.Errorf("postgres: list users: %w", store.ErrUnavailable),
		"deadline":          context.DeadlineExceeded,
	} {
		t.Run(name, func(t *testing.T) {
			hasher := password.New(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, password.Limits{})
			acct := account.New(dbtest.SQLite(t), hasher, password.Policy{}, account.Options{})
			srv := admin.New(admin.Deps{Users: failingUsers{err}, Accounts: acct}, slog.New(slog.DiscardHandler), admin.Options{Token: adminToken})
			r := httptest.NewRequest("GET", "/admin/users", nil)
			r.Header.Set("Authorization", "Bearer "+adminToken)
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, r)
			if w.Code != 503 || w.Header().Get("Retry-After") == "" {
				t.Fatalf("%d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
			}
		})
	}
}

// Profiles are served behind the admin token only.
func TestPprofBehindToken(t *testing.T) {
	h := newHarness(t)
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap?debug=1", "/debug/pprof/cmdline"} {
		if w, _ := h.doRaw("GET", path, ""); w.Code != 401 {
			t.Errorf("%s without the token: %d", path, w.Code)
		}
		if w, _ := h.doRaw("GET", path, adminToken); w.Code != 200 {
			t.Errorf("%s with the token: %d", path, w.Code)
		}
	}
}

// doRaw is do for answers that are not JSON.
func (h *harness) doRaw(method, path, token string) (*httptest.ResponseRecorder, string) {
	r := httptest.NewRequest(method, path, nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.srv.ServeHTTP(w, r)
	return w, w.Body.String()
}

// The audit trail is readable page by page, filtered, newest first.
func TestAuditListing(t *testing.T) {
	h := newHarness(t)
	srv := admin.New(admin.Deps{Clients: client.New(h.db, client.Options{}), Keys: h.keys, Audit: h.db},
		slog.New(slog.DiscardHandler), admin.Options{Token: adminToken})
	h.srv = srv
	base := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var evs []*store.AuditEvent
	for i := range 25 {
		typ := "token.issued"
		if i%5 == 0 {
			typ = "login.failed"
		}
		evs = append(evs, &store.AuditEvent{Time: base.Add(time.Duration(i) * time.Minute), Type: typ,
			ClientID: "c" + strconv.Itoa(i%2), Subject: "s", IP: "192.0.2.1", Detail: `{"n":` + strconv.Itoa(i) + `}`})
	}
	if err := h.db.AppendAudit(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	var seen []float64
	next := ""
	for pages := 0; ; pages++ {
		path := "/admin/audit?limit=10&client_id=c0"
		if next != "" {
			path += "&cursor=" + next
		}
		w, m := h.do("GET", path, "", adminToken)
		if w.Code != 200 {
			t.Fatalf("page %d: %d %v", pages, w.Code, m)
		}
		for _, e := range m["events"].([]any) {
			ev := e.(map[string]any)
			if ev["client_id"] != "c0" {
				t.Fatalf("filter ignored: %v", ev)
			}
			seen = append(seen, ev["detail"].(map[string]any)["n"].(float64))
		}
		n, _ := m["next"].(string)
		if n == "" {
			break
		}
		next = n
	}
	if len(seen) != 13 || seen[0] != 24 || seen[12] != 0 {
		t.Fatalf("paged through %v, want the 13 events of c0 newest first", seen)
	}
	_, m := h.do("GET", "/admin/audit?type=login.failed&since=2026-12-01T00:10:00Z&until=2026-12-01T00:20:00Z", "", adminToken)
	if evs := m["events"].([]any); len(evs) != 2 {
		t.Fatalf("type and range: %v", m)
	}
	for _, bad := range []string{"since=yesterday", "limit=0", "limit=1001", "cursor=%21%21"} {
		if w, m := h.do("GET", "/admin/audit?"+bad, "", adminToken); w.Code != 400 {
			t.Errorf("%s: %d %v", bad, w.Code, m)
		}
	}
	if w, _ := h.do("GET", "/admin/audit", "", ""); w.Code != 401 {
		t.Fatalf("without the token: %d", w.Code)
	}
}

// TestRegistrationTokens: POST /admin/registration-tokens mints an initial
// access token (one day, one use by default), stores only its hash, and
// refuses out-of-range requests naming the member.
func TestRegistrationTokens(t *testing.T) {
	h := newHarness(t)
	before := time.Now()
	w, m := h.do("POST", "/admin/registration-tokens", "", adminToken)
	tok, _ := m["token"].(string)
	exp, _ := m["expires_at"].(float64)
	if w.Code != 201 || len(tok) != 43 || exp < float64(before.Add(24*time.Hour-time.Minute).Unix()) || exp > float64(time.Now().Add(24*time.Hour).Unix()) {
		t.Fatalf("mint: %d %v", w.Code, m)
	}
	sum := sha256.Sum256([]byte(tok))
	if err := h.db.UseRegistrationToken(context.Background(), sum[:], time.Now()); err != nil {
		t.Fatalf("the minted token is not stored by its hash: %v", err)
	}
	if err := h.db.UseRegistrationToken(context.Background(), sum[:], time.Now()); err == nil {
		t.Fatal("the default token allows more than one use")
	}
	w, m = h.do("POST", "/admin/registration-tokens", `{"expires_in":600,"max_uses":5}`, adminToken)
	if exp, _ := m["expires_at"].(float64); w.Code != 201 || exp > float64(time.Now().Add(601*time.Second).Unix()) {
		t.Fatalf("mint with options: %d %v", w.Code, m)
	}
	for _, tc := range []struct{ body, field string }{
		{`{"expires_in":10}`, "expires_in"},
		{`{"expires_in":99999999}`, "expires_in"},
		{`{"max_uses":0.5}`, ""},
		{`{"max_uses":100000}`, "max_uses"},
		{`{"max_uses":-1}`, "max_uses"},
	} {
		w, m := h.do("POST", "/admin/registration-tokens", tc.body, adminToken)
		if w.Code != 400 || (tc.field != "" && m["field"] != tc.field) {
			t.Errorf("%s: %d %v, want 400 naming %q", tc.body, w.Code, m, tc.field)
		}
	}
	if w, _ := h.do("POST", "/admin/registration-tokens", "", "wrong"); w.Code != 401 {
		t.Fatalf("without the admin token: %d", w.Code)
	}
}
