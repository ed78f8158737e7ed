package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/internal/testenv/redistest"
)

func readyz(t *testing.T, base string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, m
}

// TestRedisOutage runs authd on PostgreSQL with Redis behind a proxy we can
// cut: with Redis gone it keeps issuing and introspecting (L1, the store and
// per-replica limits), says so in /readyz, and recovers by itself.
func TestRedisOutage(t *testing.T) {
	pg := testenv.PostgresURL(t)
	redisURL, prefix := redistest.Setup(t)
	proxy := redistest.NewProxy(t, redistest.Target(t, redisURL))
	s := startServer(t, map[string]string{
		"AUTHD_DATABASE_URL": pg,
		"AUTHD_MASTER_KEY":   "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=",
		"AUTHD_REDIS_URL":    redistest.WithHost(t, redisURL, proxy.Addr()),
		"AUTHD_REDIS_PREFIX": prefix,
	})
	var created map[string]any
	if err := json.Unmarshal(s.cli(t, "client", "create", "--format", "opaque"), &created); err != nil {
		t.Fatal(err)
	}
	id, secret := created["client_id"].(string), created["client_secret"].(string)
	issue := func() string {
		t.Helper()
		code, tok := postForm(t, s.public+"/oauth2/token", id, secret, url.Values{"grant_type": {"client_credentials"}})
		if code != 200 {
			t.Fatalf("token: %d %v", code, tok)
		}
		return tok["access_token"].(string)
	}
	active := func(tok string) bool {
		t.Helper()
		code, m := postForm(t, s.public+"/oauth2/introspect", id, secret, url.Values{"token": {tok}})
		if code != 200 {
			t.Fatalf("introspect: %d %v", code, m)
		}
		return m["active"] == true
	}
	before := issue()
	if !active(before) {
		t.Fatal("fresh token inactive")
	}
	if code, m := readyz(t, s.public); code != 200 || m["status"] != "ok" {
		t.Fatalf("readyz with Redis up: %d %v", code, m)
	}

	proxy.SetMode(redistest.Refuse)
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, m := readyz(t, s.public)
		if code == 200 && m["status"] == "degraded" && m["checks"].(map[string]any)["redis"] == "unavailable" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz never reported Redis down: %d %v", code, m)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Still serving: new tokens, old tokens, revocation.
	during := issue()
	if !active(before) || !active(during) {
		t.Fatal("introspection failed with Redis down")
	}
	if code, _ := postForm(t, s.public+"/oauth2/revoke", id, secret, url.Values{"token": {during}}); code != 200 {
		t.Fatalf("revoke with Redis down: %d", code)
	}
	if active(during) {
		t.Fatal("a token revoked while Redis was down is active")
	}

	proxy.SetMode(redistest.Forward)
	deadline = time.Now().Add(15 * time.Second)
	for {
		code, m := readyz(t, s.public)
		if code == 200 && m["status"] == "ok" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("did not recover when Redis came back: %d %v", code, m)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !active(issue()) || active(during) {
		t.Fatal("wrong answers after Redis came back")
	}
}
