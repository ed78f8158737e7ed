// Package postgres is authd's production store: PostgreSQL through a pgx
// connection pool (native pgx API, not database/sql), shared by every replica.
//
// Races that matter for security are settled inside PostgreSQL, not in Go: code
// redemption and refresh rotation are each a single conditional UPDATE (rotation
// with its INSERT in the same statement), so of N replicas presenting the same
// code at once exactly one wins. Every statement runs under statement_timeout
// and the caller's context; a missed deadline or lost connection is
// store.ErrUnavailable.
//
// Tables live in the first schema of the connection's search_path, so one
// database can host several deployments (and each test its own schema). Times
// are timestamptz truncated to microseconds (NULL for the zero time), lists are
// text[], hashes are bytea. Open does not create tables: call Migrate.
package postgres
