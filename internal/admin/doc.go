// Package admin is authd's admin API, served on its own listener and guarded by
// a bearer token: clients (RFC 7591 metadata), users and signing keys. Errors are
// RFC 9457 problem details.
package admin
