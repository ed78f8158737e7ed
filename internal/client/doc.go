// Package client registers and manages OAuth clients: one Service validates
// metadata (RFC 7591 §2 and authd's rules), stores the client, drops it from
// caches and records every change in the audit trail with its caller. The
// admin API uses it today; dynamic registration (RFC 7591) will too.
package client
