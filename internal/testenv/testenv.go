// Package testenv gives tests the real servers they need (PostgreSQL, Redis), each
// test its own isolated namespace on them, and one rule for when a server is
// missing: skip locally with a message saying how to enable it, fail when
// AUTHD_REQUIRE_SERVERS=1 (as .ci/run sets it).
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// RequireServers reports whether a missing server must fail the test.
func RequireServers() bool { return os.Getenv("AUTHD_REQUIRE_SERVERS") == "1" }

func missing(t testing.TB, what, env, example string) {
	t.Helper()
	msg := what + " tests need " + env + " (e.g. " + env + "=" + example + ")"
	if RequireServers() {
		t.Fatal(msg + "; AUTHD_REQUIRE_SERVERS=1 forbids skipping")
	}
	t.Skip(msg + "; skipping")
}

// RandomSuffix is a short random hex string for per-test names.
func RandomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// PostgresURL returns a connection URL whose search_path is a fresh schema that is
// dropped when the test ends, so parallel runs never see each other's rows.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("AUTHD_TEST_POSTGRES_URL")
	if base == "" {
		missing(t, "PostgreSQL", "AUTHD_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		if RequireServers() {
			t.Fatalf("connect to AUTHD_TEST_POSTGRES_URL: %v", err)
		}
		t.Skipf("PostgreSQL at AUTHD_TEST_POSTGRES_URL unreachable (%v); skipping", err)
	}
	defer conn.Close(ctx)
	schema := "authd_test_" + RandomSuffix()
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Logf("drop schema %s: %v", schema, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Logf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse AUTHD_TEST_POSTGRES_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// RedisURL returns the Redis URL to test against and a key prefix unique to this
// test; tests must put every key they write under the prefix.
func RedisURL(t testing.TB) (redisURL, prefix string) {
	t.Helper()
	u := os.Getenv("AUTHD_TEST_REDIS_URL")
	if u == "" {
		missing(t, "Redis", "AUTHD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
	}
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	return u, "authdtest:" + name + ":" + RandomSuffix() + ":"
}
