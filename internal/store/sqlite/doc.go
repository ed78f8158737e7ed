// Package sqlite is authd's embedded store: one SQLite file in WAL mode through
// the pure-Go modernc.org/sqlite driver, no server and no cgo.
//
// SQLite allows one writer at a time, so DB writes through a single connection
// (every write transaction is serialized in the Go pool instead of spinning on
// SQLITE_BUSY) and reads through a separate pool of read-only connections, which
// WAL lets run beside the writer. synchronous=FULL makes every acknowledged commit
// survive a crash or power loss; batching rows into one CreateAccessTokens call is
// what makes writes cheap, not a weaker sync mode.
//
// Times are stored as unix microseconds in UTC (NULL for the zero time), lists as
// JSON arrays, hashes as raw bytes. Open does not create tables: call Migrate.
package sqlite
