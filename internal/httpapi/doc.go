// Package httpapi is authd's public HTTP API: routes, middleware, the handlers of
// the OAuth endpoints, and the one error writer that turns every error into an
// RFC 6749 / 6750 / 7009 / 7662 response.
//
// The one idea: handlers parse the request once into a typed value, call a
// service, and hand any error to writeError; nothing else decides what a caller
// sees, so no handler can leak a stack trace, SQL, a secret or a token.
package httpapi
