package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authd/authd/internal/keys"
	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/internal/testenv/redistest"
)

// TestMasterKeyRotation: the master key rotates while the server serves, and
// a restart with only the new key keeps everything issued before working:
// JWTs, opaque tokens, refresh tokens, the browser's session, a form opened
// before, and what Redis holds.
func TestMasterKeyRotation(t *testing.T) {
	pg := testenv.PostgresURL(t)
	redisURL, prefix := redistest.Setup(t)
	oldKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	newKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32))
	env := map[string]string{
		"AUTHD_DATABASE_URL":        pg,
		"AUTHD_REDIS_URL":           redisURL,
		"AUTHD_REDIS_PREFIX":        prefix,
		"AUTHD_MASTER_KEY":          oldKey,
		"AUTHD_ADMIN_TOKEN":         "rotation-test-admin-token-0123456789abcdef",
		"AUTHD_ISSUER":              "http://auth.rotation.test",
		"AUTHD_ARGON2_MEMORY_KIB":   "8192",
		"AUTHD_ARGON2_TIME":         "1",
		"AUTHD_REFRESH_REUSE_GRACE": "0",
	}
	s := startServer(t, env)
	createUser(t, s, "alice", "correct horse battery staple")
	var app, svc, opq map[string]any
	mustJSON(t, s.cli(t, "client", "create", "--name", "Web App", "--auth-method", "none",
		"--grant-types", "authorization_code,refresh_token", "--redirect-uri", callback,
		"--scope", "openid profile", "--first-party"), &app)
	mustJSON(t, s.cli(t, "client", "create", "--name", "svc"), &svc)
	mustJSON(t, s.cli(t, "client", "create", "--name", "opq", "--format", "opaque"), &opq)
	appID := app["client_id"].(string)
	svcCred := [2]string{svc["client_id"].(string), svc["client_secret"].(string)}
	opqCred := [2]string{opq["client_id"].(string), opq["client_secret"].(string)}

	// A person's tokens and session.
	br := newBrowser(t)
	verifier, challenge := pkcePair()
	authorize := func(state string) string {
		return s.public + "/oauth2/authorize?" + url.Values{
			"response_type": {"code"}, "client_id": {appID}, "redirect_uri": {callback}, "scope": {"openid profile"},
			"state": {state}, "code_challenge": {challenge}, "code_challenge_method": {"S256"},
		}.Encode()
	}
	_, page := br.get(authorize("st-1"))
	form := hiddenFields(page)
	form.Set("username", "alice")
	form.Set("password", "correct horse battery staple")
	resp, _ := br.post(s.public+"/login", form)
	code := codeFrom(t, resp, "st-1")
	status, tok := tokenRequest(t, s, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {callback}, "code_verifier": {verifier}, "client_id": {appID}})
	if status != 200 {
		t.Fatalf("code exchange: %d %v", status, tok)
	}
	refresh := tok["refresh_token"].(string)
	// A machine's tokens, both formats; introspected once, so Redis holds them.
	issue := func(s *server, cred [2]string) string {
		code, m := postForm(t, s.public+"/oauth2/token", cred[0], cred[1], url.Values{"grant_type": {"client_credentials"}})
		if code != 200 {
			t.Fatalf("token: %d %v", code, m)
		}
		return m["access_token"].(string)
	}
	jwt, opaque := issue(s, svcCred), issue(s, opqCred)
	active := func(s *server, tok string) bool {
		code, m := postForm(t, s.public+"/oauth2/introspect", svcCred[0], svcCred[1], url.Values{"token": {tok}})
		if code != 200 {
			t.Fatalf("introspect: %d %v", code, m)
		}
		return m["active"] == true
	}
	if !active(s, jwt) || !active(s, opaque) {
		t.Fatal("fresh tokens inactive")
	}
	// A sign-in form opened before the rotation, submitted after.
	other := newBrowser(t)
	_, page = other.get(s.public + "/login")
	oldForm := hiddenFields(page)

	// Rotate while serving.
	keyFile := filepath.Join(t.TempDir(), "new-master-key")
	if err := os.WriteFile(keyFile, []byte(newKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"keys", "rotate-master", "--new-key-file", keyFile}, s.getenv, strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatalf("rotate-master: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), fmt.Sprintf("wrapped %d data keys", len(keys.Labels))) {
		t.Fatalf("rotate-master said %q", out.String())
	}
	if !active(s, jwt) || !active(s, issue(s, opqCred)) {
		t.Fatal("the running server stopped working during the rotation")
	}
	s.stop(t)

	// The old key alone no longer opens the data keys, and says why.
	var failed bytes.Buffer
	if err := run(context.Background(), []string{"serve"}, func(k string) string {
		if k == "AUTHD_LISTEN" || k == "AUTHD_ADMIN_LISTEN" {
			return "127.0.0.1:0"
		}
		return env[k]
	}, strings.NewReader(""), io.Discard, &failed); err == nil || !strings.Contains(err.Error(), "not configured") {
		t.Fatalf("serve with only the old key: %v", err)
	}

	env["AUTHD_MASTER_KEY"] = newKey
	s2 := startServer(t, env)
	if !active(s2, jwt) || !active(s2, opaque) {
		t.Fatal("tokens issued before the rotation are inactive after a restart with the new key")
	}
	status, tok = tokenRequest(t, s2, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {appID}})
	if status != 200 {
		t.Fatalf("refresh token from before the rotation: %d %v", status, tok)
	}
	// The browser is still signed in: no form, straight back with a code.
	resp, page = br.get(strings.Replace(authorize("st-2"), s.public, s2.public, 1))
	if loc, err := resp.Location(); err != nil || !strings.HasPrefix(loc.String(), callback) {
		t.Fatalf("session from before the rotation: %d %v\n%.300s", resp.StatusCode, err, page)
	}
	oldForm.Set("username", "alice")
	oldForm.Set("password", "correct horse battery staple")
	resp, page = other.post(s2.public+"/login", oldForm)
	if resp.StatusCode >= 400 || strings.Contains(page, "expired") {
		t.Fatalf("form from before the rotation: %d\n%.300s", resp.StatusCode, page)
	}
	if _, err := http.Get(s2.public + "/healthz"); err != nil {
		t.Fatal(err)
	}
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
}
