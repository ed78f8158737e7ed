// Package resource manages API resources (RFC 8707 resource indicators):
// the resource servers a client can ask tokens for, each with the audience,
// scopes, format and lifetime of its tokens and the clients that introspect
// them. Every change is validated once here, dropped from the token
// service's caches and recorded in the audit trail.
package resource
