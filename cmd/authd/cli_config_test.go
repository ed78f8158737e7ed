package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestConfigCommand(t *testing.T) {
	env := map[string]string{
		"AUTHD_DATABASE_URL": "postgres://authd:s3cret-password@db/authd",
		"AUTHD_MASTER_KEY":   "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=",
		"AUTHD_ADMIN_TOKEN":  "admin-token-that-must-not-be-printed-0123456789",
		"AUTHD_SIGNING_ALG":  "EdDSA",
	}
	getenv := func(k string) string { return env[k] }
	var out bytes.Buffer
	if err := run(context.Background(), []string{"config"}, getenv, strings.NewReader(""), &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"AUTHD_SIGNING_ALG", "EdDSA", "AUTHD_DATABASE_URL", "(set)", "AUTHD_LISTEN", "127.0.0.1:8080"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("authd config lacks %q:\n%s", want, out.String())
		}
	}
	for _, secret := range []string{"s3cret-password", env["AUTHD_MASTER_KEY"], env["AUTHD_ADMIN_TOKEN"]} {
		if strings.Contains(out.String(), secret) {
			t.Fatalf("authd config printed a secret:\n%s", out.String())
		}
	}
	out.Reset()
	if err := run(context.Background(), []string{"config", "check"}, getenv, strings.NewReader(""), &out, &bytes.Buffer{}); err != nil || !strings.Contains(out.String(), "valid") {
		t.Fatalf("config check: %v %q", err, out.String())
	}
	// A bad value: one line naming the key, before anything is touched.
	env["AUTHD_RATE_LIMIT_LOGIN_IP"] = "fast"
	err := run(context.Background(), []string{"config", "check"}, getenv, strings.NewReader(""), &out, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "AUTHD_RATE_LIMIT_LOGIN_IP") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("config check with a bad value: %v", err)
	}
	// serve refuses it the same way, before binding anything.
	env["AUTHD_LISTEN"] = "127.0.0.1:1" // would fail to bind if it got that far
	if err := run(context.Background(), []string{"serve"}, getenv, strings.NewReader(""), &out, &bytes.Buffer{}); err == nil ||
		!strings.Contains(err.Error(), "AUTHD_RATE_LIMIT_LOGIN_IP") {
		t.Fatalf("serve with a bad value: %v", err)
	}
}
