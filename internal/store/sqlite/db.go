package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"
	"sync"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/authd/authd/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

var _ store.Store = (*DB)(nil)

// busyTimeout bounds how long a connection waits for a lock held by another
// process (a second authd or an operator's sqlite3 shell) before SQLITE_BUSY.
const busyTimeout = 5 * time.Second

// DB is the SQLite store. It is safe for concurrent use.
type DB struct {
	w  *sql.DB // the one writer connection
	r  *sql.DB // read-only connections
	ck *sql.DB // the checkpointer's connection

	// stmts caches prepared statements by (pool, query): preparing costs 5–10 µs,
	// a third of a point lookup. database/sql re-prepares a cached statement on
	// each new connection by itself.
	stmts sync.Map // stmtKey → *sql.Stmt
}

type stmtKey struct {
	db    *sql.DB
	query string
}

// Open opens (creating if needed) the database file at path. It does not create
// tables; call Migrate. In-memory databases are not supported: the reader pool
// would not share the writer's memory.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" || path == ":memory:" {
		return nil, errors.New("sqlite: a database file path is required")
	}
	ms := fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds())
	w, err := sql.Open("sqlite", dsn(path, true,
		ms, "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)",
		// Checkpoints run beside the writer (RunCheckpoints), not inside
		// the commit that crosses the threshold: inline they stalled a
		// commit for up to 200 ms under load. This is the backstop when
		// nothing runs them (≈ 80 MB of WAL).
		fmt.Sprintf("wal_autocheckpoint(%d)", backstopCheckpointPages)))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	// The writer connects first so the file exists and is in WAL mode before any
	// reader opens it.
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	r, err := sql.Open("sqlite", dsn(path, false, ms, "foreign_keys(1)", "query_only(1)"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxIdleTime(5 * time.Minute)
	// A connection of its own for checkpoints, so that one never waits for
	// the writer's (a checkpoint needs no write lock) and the writer never
	// waits for it.
	ck, err := sql.Open("sqlite", dsn(path, false, ms))
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	ck.SetMaxOpenConns(1)
	ck.SetMaxIdleConns(1)
	d := &DB{w: w, r: r, ck: ck}
	if err := r.PingContext(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return d, nil
}

// dsn builds a modernc DSN. Pragmas go in the DSN, not in an Exec after Open,
// because database/sql opens connections lazily and each must get them.
func dsn(path string, writer bool, pragmas ...string) string {
	q := url.Values{"_pragma": pragmas}
	if writer {
		// Take the write lock at BEGIN: a deferred transaction that reads first
		// could fail with SQLITE_BUSY on upgrade if another process writes.
		q.Set("_txlock", "immediate")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Migrate creates or upgrades the schema. It is safe to call on every start.
func (d *DB) Migrate(ctx context.Context) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, d.w, fsys, goose.WithGoMigrations(goMigrations()...))
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	// Not p.Close: it would close the writer.
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return nil
}

// stmt returns query prepared on db, preparing it on first use. The set of
// queries is fixed, so the cache is bounded.
func (d *DB) stmt(ctx context.Context, db *sql.DB, query string) (*sql.Stmt, error) {
	k := stmtKey{db, query}
	if s, ok := d.stmts.Load(k); ok {
		return s.(*sql.Stmt), nil
	}
	s, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := d.stmts.LoadOrStore(k, s); loaded {
		s.Close()
		return prev.(*sql.Stmt), nil
	}
	return s, nil
}

// queryRow runs a single-row read on the reader pool.
func (d *DB) queryRow(ctx context.Context, query string, args ...any) (*sql.Row, error) {
	s, err := d.stmt(ctx, d.r, query)
	if err != nil {
		return nil, err
	}
	return s.QueryRowContext(ctx, args...), nil
}

// query runs a read on the reader pool.
func (d *DB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := d.stmt(ctx, d.r, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

// exec runs one autocommit write on the writer.
func (d *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	s, err := d.stmt(ctx, d.w, query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

// Ping reports whether a read connection answers.
func (d *DB) Ping(ctx context.Context) error {
	return d.fail(ctx, "ping", d.r.PingContext(ctx))
}

// Close closes every connection. The last connection to close checkpoints the
// WAL into the main file.
func (d *DB) Close() error {
	var errs []error
	d.stmts.Range(func(_, s any) bool {
		errs = append(errs, s.(*sql.Stmt).Close())
		return true
	})
	errs = append(errs, d.ck.Close(), d.r.Close(), d.w.Close())
	return errors.Join(errs...)
}

// tx runs fn in one write transaction (BEGIN IMMEDIATE) on the writer, passing
// it queries prepared and bound to the transaction. They are prepared before
// BEGIN because from then on the writer's only connection belongs to the
// transaction, and preparing on the pool would wait for it forever.
func (d *DB) tx(ctx context.Context, fn func(tx *sql.Tx, stmts []*sql.Stmt) error, queries ...string) error {
	parents := make([]*sql.Stmt, len(queries))
	for i, q := range queries {
		s, err := d.stmt(ctx, d.w, q)
		if err != nil {
			return err
		}
		parents[i] = s
	}
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	stmts := make([]*sql.Stmt, len(parents))
	for i, s := range parents {
		stmts[i] = tx.StmtContext(ctx, s)
	}
	if err := fn(tx, stmts); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// fail maps a driver error to the store's sentinels. Store sentinels pass through;
// a missed deadline or a lock that stayed busy is ErrUnavailable.
func (d *DB) fail(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, sql.ErrNoRows), errors.Is(err, store.ErrNotFound):
		return store.ErrNotFound
	case errors.Is(err, store.ErrAlreadyUsed), errors.Is(err, store.ErrConflict):
		return err
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("sqlite: %s: %w: %w", op, store.ErrUnavailable, err)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		// The driver reports an interrupted statement as its own error.
		return fmt.Errorf("sqlite: %s: %w: %w (%w)", op, store.ErrUnavailable, ctx.Err(), err)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
			return fmt.Errorf("sqlite: %s: %w", op, store.ErrConflict)
		}
		switch se.Code() & 0xff { // primary code of an extended one
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return fmt.Errorf("sqlite: %s: %w: %w", op, store.ErrUnavailable, err)
		}
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// micros encodes a time; the zero time is NULL.
func micros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

func fromMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}

// encodeList stores a list as a JSON array: any string round-trips, unlike a
// space-joined list.
func encodeList(s []string) (string, error) {
	if len(s) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(s)
	return string(b), err
}

func decodeList(s string) ([]string, error) {
	if s == "[]" || s == "" {
		return nil, nil
	}
	var out []string
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, fmt.Errorf("decode list: %w", err)
	}
	return out, nil
}

// rowsAffected turns "no row matched" into ErrNotFound for updates and deletes
// that the contract says must find their row.
func rowsAffected(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

type scanner interface {
	Scan(dest ...any) error
}
