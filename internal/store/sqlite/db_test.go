package sqlite

import (
	"database/sql"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/pressly/goose/v3"
)

func openMigrated(t *testing.T, path string) *DB {
	t.Helper()
	d, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	if err := d.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return d
}

// pragma reads one pragma on a connection of its own, so several calls can
// hold several pooled connections at once.
func pragma(t *testing.T, c *sql.Conn, name string) string {
	t.Helper()
	var v string
	if err := c.QueryRowContext(t.Context(), "PRAGMA "+name).Scan(&v); err != nil {
		t.Fatalf("PRAGMA %s: %v", name, err)
	}
	return v
}

func TestPragmasOnEveryConnection(t *testing.T) {
	d := openMigrated(t, filepath.Join(t.TempDir(), "authd.db"))
	ctx := t.Context()

	w, err := d.w.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for name, want := range map[string]string{
		"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1", "busy_timeout": "5000", "query_only": "0",
	} {
		if got := pragma(t, w, name); got != want {
			t.Errorf("writer: %s = %q, want %q", name, got, want)
		}
	}

	// Hold several readers at once so the pool must open new connections.
	for i := range 3 {
		r, err := d.r.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		for name, want := range map[string]string{
			"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "5000", "query_only": "1",
		} {
			if got := pragma(t, r, name); got != want {
				t.Errorf("reader %d: %s = %q, want %q", i, name, got, want)
			}
		}
		if _, err := r.ExecContext(ctx, `DELETE FROM clients`); err == nil {
			t.Errorf("reader %d accepted a write", i)
		}
	}
}

func TestMigrateTwiceAndReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "authd.db")
	d := openMigrated(t, path)
	if err := d.Migrate(t.Context()); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if err := d.Revoke(t.Context(), "jti", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	// Reopened without Migrate, as "authd serve --no-migrate" does.
	d2, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer d2.Close()
	got, err := d2.Revoked(t.Context(), []string{"jti"})
	if err != nil || len(got) != 1 {
		t.Fatalf("after reopen Revoked = %q, %v; want the committed row", got, err)
	}
}

func TestOpenRejectsMemory(t *testing.T) {
	for _, path := range []string{"", ":memory:"} {
		if d, err := Open(t.Context(), path); err == nil {
			d.Close()
			t.Errorf("Open(%q) succeeded; the reader pool cannot share an in-memory database", path)
		}
	}
}

// TestMigration2PostLogoutRedirectURIs upgrades a database that already holds
// a client from the first schema, then takes the migration down again.
func TestMigration2PostLogoutRedirectURIs(t *testing.T) {
	ctx := t.Context()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "authd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, d.w, fsys, goose.WithGoMigrations(goMigrations()...))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := d.w.ExecContext(ctx, `INSERT INTO clients (id, name, grant_types, redirect_uris, scopes,
		token_endpoint_auth_method, access_token_format, access_token_ttl_ns, first_party)
		VALUES ('old', 'Old', '["authorization_code"]', '["https://old.example/cb"]', '[]', 'none', 'jwt', 0, 0)`); err != nil {
		t.Fatal(err)
	}
	if err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := d.Client(ctx, "old")
	if err != nil || c.PostLogoutRedirectURIs != nil || len(c.RedirectURIs) != 1 {
		t.Fatalf("client from before the migration: %+v, %v", c, err)
	}
	if _, err := p.DownTo(ctx, 1); err != nil {
		t.Fatalf("down: %v", err)
	}
	var n int
	if err := d.w.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('clients') WHERE name = 'post_logout_redirect_uris'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("column left after down: %d, %v", n, err)
	}
	if err := d.w.QueryRowContext(ctx, `SELECT count(*) FROM clients WHERE id = 'old'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("client lost by down: %d, %v", n, err)
	}
}

// TestMigration3And4 upgrades a database holding clients from schema 2: a
// public client gets its redirect URIs' origins as CORS origins (the Go
// migration 4), users and tokens get generation 0, and down undoes it all.
func TestMigration3And4(t *testing.T) {
	ctx := t.Context()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "authd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, d.w, fsys, goose.WithGoMigrations(goMigrations()...))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 2); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO clients (id, name, grant_types, redirect_uris, scopes, token_endpoint_auth_method,
			access_token_format, access_token_ttl_ns, first_party)
			VALUES ('spa', 'SPA', '["authorization_code"]', '["https://SPA.example:443/cb","http://127.0.0.1:3000/cb"]',
			'[]', 'none', 'jwt', 0, 0)`,
		`INSERT INTO clients (id, name, grant_types, redirect_uris, scopes, token_endpoint_auth_method,
			access_token_format, access_token_ttl_ns, first_party)
			VALUES ('web', 'Web', '["authorization_code"]', '["https://web.example/cb"]', '[]', 'client_secret_basic', 'jwt', 0, 0)`,
		`INSERT INTO users (id, username, email, password_hash, disabled) VALUES ('u1', 'alice', 'a@example.com', 'h', 0)`,
	} {
		if _, err := d.w.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for origin, want := range map[string]bool{
		"https://spa.example":   true,
		"http://127.0.0.1:3000": true,
		"https://web.example":   false, // a confidential client's redirect URIs are not origins
	} {
		if got, err := d.OriginAllowed(ctx, origin); err != nil || got != want {
			t.Errorf("OriginAllowed(%q) after upgrade = %v, %v; want %v", origin, got, err, want)
		}
	}
	u, err := d.User(ctx, "u1")
	if err != nil || u.Generation != 0 || u.EmailVerified || u.Email != "a@example.com" {
		t.Fatalf("user from before the migration: %+v, %v", u, err)
	}
	if _, err := p.DownTo(ctx, 2); err != nil {
		t.Fatalf("down: %v", err)
	}
	var n int
	if err := d.w.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name IN
		('client_cors_origins', 'scope_descriptions', 'cache_invalidations')`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("tables left after down: %d, %v", n, err)
	}
	if err := d.w.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("user lost by down: %d, %v", n, err)
	}
}
