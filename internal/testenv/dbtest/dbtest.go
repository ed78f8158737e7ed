// Package dbtest opens real, migrated stores for tests: an embedded SQLite
// file in the test's temporary folder, or a fresh PostgreSQL schema (see
// testenv.PostgresURL). Both are closed when the test ends.
package dbtest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/authd/authd/internal/store/postgres"
	"github.com/authd/authd/internal/store/sqlite"
	"github.com/authd/authd/internal/testenv"
)

// SQLite returns a migrated SQLite store in tb's temporary folder.
func SQLite(tb testing.TB) *sqlite.DB {
	tb.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "authd.db"))
	if err != nil {
		tb.Fatalf("dbtest: sqlite.Open: %v", err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(ctx); err != nil {
		tb.Fatalf("dbtest: migrate: %v", err)
	}
	return db
}

// Postgres returns a migrated PostgreSQL store in a schema of tb's own; it
// skips or fails as testenv.PostgresURL does when no server is configured.
func Postgres(tb testing.TB) *postgres.DB {
	tb.Helper()
	ctx := context.Background()
	db, err := postgres.Open(ctx, testenv.PostgresURL(tb), postgres.Options{})
	if err != nil {
		tb.Fatalf("dbtest: postgres.Open: %v", err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(ctx); err != nil {
		tb.Fatalf("dbtest: migrate: %v", err)
	}
	return db
}
