// Package oauth is the protocol vocabulary shared by every part of authd: clients,
// scopes, grant and auth-method names, and RFC 6749 errors with their HTTP status.
//
// It does no I/O. Handlers and services speak in these types; only httpapi turns
// them into responses.
package oauth
