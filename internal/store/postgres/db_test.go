package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authd/authd/internal/store"
	"github.com/authd/authd/internal/store/postgres"
	"github.com/authd/authd/internal/testenv"
)

func TestMigrationsStayInSearchPathSchema(t *testing.T) {
	url := testenv.PostgresURL(t)
	ctx := t.Context()
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
	// Other tests' schemas hold the same tables; only public must stay empty.
	var public int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'
		AND tablename IN ('goose_db_version', 'clients')`).Scan(&public); err != nil {
		t.Fatal(err)
	}
	if public != 0 {
		t.Errorf("public schema has %d authd tables; migrations must follow search_path", public)
	}
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
