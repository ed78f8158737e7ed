package postgres_test

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authd/authd/internal/store"
	"github.com/authd/authd/internal/store/postgres"
	"github.com/authd/authd/internal/testenv"
	"github.com/authd/authd/internal/testenv/redistest"
)

func TestMigrationsStayInSearchPathSchema(t *testing.T) {
	url := testenv.PostgresURL(t)
	ctx := t.Context()
	// The public schema may hold a real authd deployment (the test database is
	// someone's database): what counts is that migrating here leaves it as it was.
	before := publicTables(t, url)
	// Two replicas migrating at once: the advisory lock must let both succeed.
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			db, err := postgres.Open(ctx, url, postgres.Options{})
			if err != nil {
				errs <- err
				return
			}
			defer db.Close()
			errs <- db.Migrate(ctx)
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent Migrate: %v", err)
		}
	}

	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var schema string
	var here int
	err = conn.QueryRow(ctx, `SELECT current_schema(), count(*) FROM pg_tables
		WHERE schemaname = current_schema()
		AND tablename IN ('goose_db_version', 'clients', 'access_tokens', 'refresh_tokens')
		GROUP BY 1`).Scan(&schema, &here)
	if err != nil {
		t.Fatal(err)
	}
	if here != 4 {
		t.Errorf("schema %s holds %d of the 4 tables checked, want all (version table included)", schema, here)
	}
	// Other tests' schemas hold the same tables; public must be untouched.
	if after := publicTables(t, url); after != before {
		t.Errorf("migrating schema %s changed the public schema (tables and goose versions before %q, after %q); migrations must follow search_path",
			schema, before, after)
	}
}

// publicTables describes the public schema's tables and, when it has a goose
// version table, its latest version: a migration that strayed there changes it.
func publicTables(t *testing.T, url string) string {
	t.Helper()
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var tables string
	if err := conn.QueryRow(ctx, `SELECT coalesce(string_agg(tablename, ',' ORDER BY tablename), '')
		FROM pg_tables WHERE schemaname = 'public'`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	var version string
	if err := conn.QueryRow(ctx, `SELECT coalesce((SELECT max(version_id)::text FROM public.goose_db_version), '')`).Scan(&version); err != nil {
		version = "" // no version table in public
	}
	return tables + " @" + version
}

func TestStatementTimeout(t *testing.T) {
	url := testenv.PostgresURL(t)
	ctx := t.Context()
	tests := []struct {
		name string
		opts postgres.Options
		want string
	}{
		{"default", postgres.Options{}, "5s"},
		{"option", postgres.Options{StatementTimeout: 200 * time.Millisecond}, "200ms"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, err := postgres.Open(ctx, url, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if got := db.Setting(t, "statement_timeout"); got != tc.want {
				t.Fatalf("statement_timeout = %q, want %q", got, tc.want)
			}
		})
	}

	// The server cancels a statement past the timeout; that is ErrUnavailable.
	db, err := postgres.Open(ctx, url, postgres.Options{StatementTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Sleep(ctx, time.Second); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("statement past statement_timeout: %v, want ErrUnavailable", err)
	}
}

func TestOpenUnreachable(t *testing.T) {
	// Port 1 on loopback refuses at once: no server needed for this test.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	db, err := postgres.Open(ctx, "postgres://authd@127.0.0.1:1/authd?sslmode=disable",
		postgres.Options{ConnectTimeout: time.Second})
	if err == nil {
		db.Close()
		t.Fatal("Open of an unreachable server succeeded")
	}
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Open of an unreachable server: %v, want ErrUnavailable", err)
	}
}

// A connection cut while a statement runs is an outage (ErrUnavailable, which
// the HTTP layer answers with 503 and Retry-After), not an unknown error.
func TestConnectionCutMidQueryIsUnavailable(t *testing.T) {
	raw := testenv.PostgresURL(t)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	proxy := redistest.NewProxy(t, u.Host)
	u.Host = proxy.Addr()
	ctx := t.Context()
	db, err := postgres.Open(ctx, u.String(), postgres.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	app := "authd-cut-" + testenv.RandomSuffix()
	errc := make(chan error, 1)
	go func() { errc <- db.SleepAs(ctx, app, 30*time.Second) }()

	// Wait until the statement is running on the server, seen from a direct connection.
	conn, err := pgx.Connect(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for {
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE application_name = $1 AND state = 'active' AND query LIKE '%pg_sleep%'`, app).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		select {
		case err := <-errc:
			t.Fatalf("sleep ended before the cut: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	proxy.SetMode(redistest.Refuse) // drops the open connection mid-statement
	select {
	case err := <-errc:
		if !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("statement on a cut connection: %v, want ErrUnavailable", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("statement on a cut connection did not return")
	}
}
