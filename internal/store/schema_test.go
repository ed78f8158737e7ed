package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // the database/sql driver, to read the schema

	"github.com/authd/authd/internal/store/postgres"
	"github.com/authd/authd/internal/store/sqlite"
	"github.com/authd/authd/internal/testenv"
)

// column is what parity compares of a column: its type class and nullability.
type column struct {
	class   string // "text", "integer" (integers, booleans, times), "bytes"
	notNull bool
}

// schema is table → column → column, and the names of the indexes.
type schema struct {
	tables  map[string]map[string]column
	indexes []string
}

// Both backends, migrated, must have the same tables, columns (by type class
// and nullability) and indexes: a migration added to one tree only, or a
// column added with a different nullability, fails here.
func TestSchemaParity(t *testing.T) {
	lite := sqliteSchema(t)
	pg := postgresSchema(t)
	for _, name := range union(slices.Collect(maps.Keys(lite.tables)), slices.Collect(maps.Keys(pg.tables))) {
		lc, pc := lite.tables[name], pg.tables[name]
		if lc == nil || pc == nil {
			t.Errorf("table %s: only in %s", name, only(lc != nil))
			continue
		}
		for _, col := range union(slices.Collect(maps.Keys(lc)), slices.Collect(maps.Keys(pc))) {
			l, lok := lc[col]
			p, pok := pc[col]
			switch {
			case !lok || !pok:
				t.Errorf("column %s.%s: only in %s", name, col, only(lok))
			case l != p:
				t.Errorf("column %s.%s: sqlite %+v, postgres %+v", name, col, l, p)
			}
		}
	}
	if !slices.Equal(lite.indexes, pg.indexes) {
		t.Errorf("indexes differ:\n sqlite   %q\n postgres %q", lite.indexes, pg.indexes)
	}
}

func only(inSQLite bool) string {
	if inSQLite {
		return "sqlite"
	}
	return "postgres"
}

func union(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

// ours tells authd's tables from goose's bookkeeping and SQLite's own.
func ours(table string) bool {
	return table != "goose_db_version" && !strings.HasPrefix(table, "sqlite_")
}

func sqliteSchema(t *testing.T) schema {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "authd.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	st.Close()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := schema{tables: map[string]map[string]column{}}
	rows, err := db.QueryContext(ctx, `SELECT m.name, p.name, p.type, p."notnull" OR p.pk FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var table, col, typ string
		var notNull bool
		if err := rows.Scan(&table, &col, &typ, &notNull); err != nil {
			t.Fatal(err)
		}
		if !ours(table) {
			continue
		}
		if s.tables[table] == nil {
			s.tables[table] = map[string]column{}
		}
		s.tables[table][col] = column{class: sqliteClass(typ), notNull: notNull}
	}
	rows.Close()
	idx, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	for idx.Next() {
		var n string
		if err := idx.Scan(&n); err != nil {
			t.Fatal(err)
		}
		s.indexes = append(s.indexes, n)
	}
	idx.Close()
	return s
}

func sqliteClass(typ string) string {
	switch strings.ToUpper(typ) {
	case "TEXT":
		return "text"
	case "INTEGER":
		return "integer"
	case "BLOB":
		return "bytes"
	}
	return "unknown " + typ
}

func postgresSchema(t *testing.T) schema {
	t.Helper()
	ctx := context.Background()
	url := testenv.PostgresURL(t)
	st, err := postgres.Open(ctx, url, postgres.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	st.Close()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	s := schema{tables: map[string]map[string]column{}}
	rows, err := conn.Query(ctx, `SELECT table_name, column_name, data_type, is_nullable = 'NO'
		FROM information_schema.columns WHERE table_schema = current_schema()`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var table, col, typ string
		var notNull bool
		if err := rows.Scan(&table, &col, &typ, &notNull); err != nil {
			t.Fatal(err)
		}
		if !ours(table) {
			continue
		}
		if s.tables[table] == nil {
			s.tables[table] = map[string]column{}
		}
		s.tables[table][col] = column{class: postgresClass(typ), notNull: notNull}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	// Primary keys and unique constraints are indexes in PostgreSQL; SQLite
	// lists only the indexes a migration created by name.
	idx, err := conn.Query(ctx, `SELECT i.indexname FROM pg_indexes i
		WHERE i.schemaname = current_schema()
		AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
		ORDER BY i.indexname`)
	if err != nil {
		t.Fatal(err)
	}
	for idx.Next() {
		var n string
		if err := idx.Scan(&n); err != nil {
			t.Fatal(err)
		}
		s.indexes = append(s.indexes, n)
	}
	idx.Close()
	return s
}

// postgresClass maps a PostgreSQL type to the SQLite class authd stores it
// as: lists are JSON text in SQLite, times and booleans are integers.
func postgresClass(typ string) string {
	switch typ {
	case "text", "ARRAY":
		return "text"
	case "bigint", "integer", "boolean", "timestamp with time zone":
		return "integer"
	case "bytea":
		return "bytes"
	}
	return fmt.Sprintf("unknown %s", typ)
}
