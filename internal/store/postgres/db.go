package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"net"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/authd/authd/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

var _ store.Store = (*DB)(nil)

// Options tune the pool. Zero fields take the defaults below; set fields
// override the matching parameters in the URL.
type Options struct {
	// MaxConns caps open connections; default max(4, 4×GOMAXPROCS). Requests
	// beyond it wait for a connection under their own deadline.
	MaxConns int32
	// MinConns are kept open while idle; default 0.
	MinConns int32
	// ConnectTimeout bounds dialling and authenticating one connection;
	// default 5 s (or connect_timeout from the URL).
	ConnectTimeout time.Duration
	// StatementTimeout is the server-side statement_timeout of every
	// connection, a backstop for callers without a deadline; default 5 s (or
	// statement_timeout from the URL).
	StatementTimeout time.Duration
}

const (
	defaultConnectTimeout   = 5 * time.Second
	defaultStatementTimeout = 5 * time.Second
)

// DB is the PostgreSQL store. It is safe for concurrent use.
type DB struct {
	pool guardedPool
}

// Open connects to the database at url (a postgres:// URL or key=value DSN) and
// checks that it answers. It does not create tables; call Migrate.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse url: %w", err) // pgx redacts the password
	}
	cfg.MaxConns = opts.MaxConns
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = int32(max(4, 4*runtime.GOMAXPROCS(0)))
	}
	cfg.MinConns = min(max(opts.MinConns, 0), cfg.MaxConns)
	switch {
	case opts.ConnectTimeout > 0:
		cfg.ConnConfig.ConnectTimeout = opts.ConnectTimeout
	case cfg.ConnConfig.ConnectTimeout == 0:
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	_, inURL := cfg.ConnConfig.RuntimeParams["statement_timeout"]
	switch {
	case opts.StatementTimeout > 0:
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = millis(opts.StatementTimeout)
	case !inURL:
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = millis(defaultStatementTimeout)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	d := &DB{pool: newGuardedPool(pool)}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, d.fail(ctx, "open", err)
	}
	return d, nil
}

// millis formats d for a PostgreSQL duration setting; 0 would mean "no limit",
// so anything shorter than a millisecond rounds up to one.
func millis(d time.Duration) string {
	return strconv.FormatInt(max(1, d.Milliseconds()), 10)
}

// Migrate creates or upgrades the schema in the first schema of search_path. It
// is safe to call from several replicas at once: a session advisory lock, keyed
// by the schema, lets one migrate while the others wait.
func (d *DB) Migrate(ctx context.Context) error {
	cc := d.pool.Config().ConnConfig // a copy
	// A migration may rightly run longer than a request; the caller's ctx bounds it.
	cc.RuntimeParams["statement_timeout"] = "0"
	db := stdlib.OpenDB(*cc)
	defer db.Close()

	var schema sql.NullString
	if err := db.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return d.fail(ctx, "migrate", err)
	}
	if !schema.Valid {
		return errors.New("postgres: migrate: search_path names no existing schema")
	}
	h := fnv.New64a()
	h.Write([]byte("authd migrations in schema " + schema.String))
	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(int64(h.Sum64())),
		lock.WithLockTimeout(1, 300), // poll every second, give up after 5 minutes
	)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys, goose.WithSessionLocker(locker),
		goose.WithGoMigrations(goMigrations()...))
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return d.fail(ctx, "migrate", err)
	}
	return nil
}

// Ping reports whether the database answers.
func (d *DB) Ping(ctx context.Context) error {
	return d.fail(ctx, "ping", d.pool.Ping(ctx))
}

// Close closes every connection, waiting for acquired ones to be released.
func (d *DB) Close() error {
	d.pool.Close()
	return nil
}

// fail maps a driver error to the store's sentinels. Store sentinels pass
// through; a missed deadline, a statement timeout or a lost or refused
// connection is ErrUnavailable. Only constraint names, never SQL, go into
// ErrConflict's message.
func (d *DB) fail(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, pgx.ErrNoRows), errors.Is(err, store.ErrNotFound):
		return store.ErrNotFound
	case errors.Is(err, store.ErrAlreadyUsed), errors.Is(err, store.ErrConflict):
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505": // unique_violation
			return fmt.Errorf("postgres: %s: %w (%s)", op, store.ErrConflict, pe.ConstraintName)
		case pe.Code == "57014", // query_canceled: statement_timeout
			pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03", // shutdown, cannot connect now
			pe.Code == "53300",               // too_many_connections
			strings.HasPrefix(pe.Code, "08"): // connection exception
			return fmt.Errorf("postgres: %s: %w: %w", op, store.ErrUnavailable, err)
		}
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) ||
		errors.As(err, &ce) || errors.As(err, &ne) || pgconn.SafeToRetry(err) || connectionLost(err) {
		return fmt.Errorf("postgres: %s: %w: %w", op, store.ErrUnavailable, err)
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("postgres: %s: %w: %w (%w)", op, store.ErrUnavailable, ctx.Err(), err)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// connectionLost reports an error of a connection that died under a query: a
// server restart or a network cut mid-query ends the read with EOF or a reset,
// which are not net.Errors and not safe to retry, but are an outage all the same.
func connectionLost(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, pgconn.ErrConnClosed)
}

// nullTime encodes a stored time: truncated to microseconds (PostgreSQL would
// round) and NULL for the zero time.
func nullTime(t time.Time) pgtype.Timestamptz {
	if t.IsZero() {
		return pgtype.Timestamptz{}
	}
	return pgtype.Timestamptz{Time: t.Truncate(time.Microsecond), Valid: true}
}

// atTime encodes a time compared against or stamped as a marker; never NULL, so
// a zero now still compares and still marks.
func atTime(t time.Time) pgtype.Timestamptz {
	return pgtype.Timestamptz{Time: t.Truncate(time.Microsecond), Valid: true}
}

func fromTime(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// list makes a nil slice an empty array: pgx sends nil as NULL.
func list(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// unlist makes an empty array nil, as the SQLite backend returns it.
func unlist(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// affected turns "no row matched" into ErrNotFound for updates and deletes that
// the contract says must find their row.
func affected(tag pgconn.CommandTag, err error) error {
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}
