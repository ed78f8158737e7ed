package postgres_test

import (
	"testing"

	"github.com/authd/authd/internal/store"
	"github.com/authd/authd/internal/store/postgres"
	"github.com/authd/authd/internal/store/storetest"
	"github.com/authd/authd/internal/testenv"
)

// open gives tb a migrated store in a schema of its own (testenv skips, or fails
// under AUTHD_REQUIRE_SERVERS=1, when no PostgreSQL is configured).
func open(tb testing.TB) *postgres.DB {
	tb.Helper()
	url := testenv.PostgresURL(tb)
	// A small pool: tests run in parallel against one server.
	db, err := postgres.Open(tb.Context(), url, postgres.Options{MaxConns: 8})
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	if err := db.Migrate(tb.Context()); err != nil {
		tb.Fatalf("Migrate: %v", err)
	}
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) store.Store { return open(b) })
}
