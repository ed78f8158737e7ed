package httpapi

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/authd/authd/internal/oauth"
)

// CORS (the Fetch standard's CORS protocol) lets a single-page app call authd
// from its own origin. Two kinds of endpoint:
//
//   - discovery and the JWKS are public documents: Access-Control-Allow-Origin
//     is "*" for everyone.
//   - token, revocation, introspection and userinfo answer a script only if its
//     origin is allowed: by the client that authenticated (Client.CORSOrigins)
//     at the first three, by some client (Origins) at userinfo and for
//     preflights, which carry no client identity. They echo that origin, add
//     Vary: Origin, and never send Access-Control-Allow-Credentials: callers
//     present credentials explicitly, cookies play no part, and a response a
//     script can read with ambient credentials is exactly what CORS guards.
//
// A form POST is a CORS "simple request": the browser sends it without a
// preflight and only then decides, from the answer, whether the script may
// read it. So a request from an origin its client does not allow is refused
// before any work at the client-authenticated endpoints: otherwise a page the
// client never allowed could spend an authorization code or rotate a refresh
// token (whose successor it could not read, so the next use would look like
// reuse and revoke the family). Requests without an Origin header (servers,
// native apps) and same-origin requests are not CORS and pass unchanged.

// Origins says whether any registered client allows a web origin (see
// oauth.Client.CORSOrigins). It is asked only with origins that passed
// oauth.IsOrigin. Implementations should cache: browsers preflight again once
// the max-age below runs out.
type Origins interface {
	OriginAllowed(ctx context.Context, origin string) (bool, error)
}

// Header values of CORS responses (shared; see errors.go).
var (
	hdrVaryOrigin = []string{"Origin"}
	hdrAnyOrigin  = []string{"*"}
	hdrPOST       = []string{"POST"}
	hdrGETPOST    = []string{"GET, POST"}
	hdrGET        = []string{"GET"}
	// DPoP is listed ahead of RFC 9449 support so apps need no new preflight
	// policy when it lands.
	hdrCORSRequestHeaders = []string{"Authorization, Content-Type, DPoP"}
	// Response headers a script may read beyond the CORS-safelisted ones: the
	// RFC 6750 §3 challenge, rate-limit back-off and the id to quote to an
	// operator.
	hdrCORSExpose = []string{"WWW-Authenticate, Retry-After, X-Request-Id"}
	hdrCORSMaxAge = []string{"600"}
	hdrAnyHeader  = []string{"*"}
)

// errOriginRefused answers a cross-origin request its client does not allow.
// RFC 6749 §5.2 unauthorized_client: the client authenticated but may not do
// this from there.
var errOriginRefused = oauth.UnauthorizedClient("this client does not allow requests from that web origin")

// crossOrigin returns the Origin of a cross-origin request ("" for none, an
// empty one and a same-origin one) and marks the response as varying with it.
// Several Origin headers (RFC 6454 §7.3 forbids them) count as an origin no
// one allows.
func (s *Server) crossOrigin(w http.ResponseWriter, r *http.Request) string {
	v := r.Header["Origin"]
	if len(v) == 0 || (len(v) == 1 && (v[0] == "" || v[0] == s.selfOrigin)) {
		return ""
	}
	// Fetch, "CORS protocol and HTTP caches": the answer depends on Origin.
	w.Header()["Vary"] = hdrVaryOrigin
	if len(v) > 1 {
		return "null"
	}
	return v[0]
}

// allowOrigin lets the script at origin read the response.
func allowOrigin(w http.ResponseWriter, origin string) {
	h := w.Header()
	h["Access-Control-Allow-Origin"] = []string{origin}
	h["Access-Control-Expose-Headers"] = hdrCORSExpose
}

// allowClientOrigin checks a cross-origin request at a client-authenticated
// endpoint once the client is known: it returns errOriginRefused when the
// client does not allow origin, and otherwise lets the script read the answer.
func allowClientOrigin(w http.ResponseWriter, c *oauth.Client, origin string) error {
	if origin == "" {
		return nil
	}
	if !c.AllowsCORSOrigin(origin) {
		return errOriginRefused
	}
	allowOrigin(w, origin)
	return nil
}

// shareFailure decides CORS for an error answered before a client
// authenticated: the script may read it if some client allows its origin, so
// an app sees invalid_client or a malformed request instead of an opaque
// network error. Such answers carry nothing but the error.
func (s *Server) shareFailure(w http.ResponseWriter, r *http.Request, origin string) {
	if origin != "" && s.anyClientAllows(r, origin) {
		allowOrigin(w, origin)
	}
}

// anyClientAllows asks Origins, treating a failure as "no": the browser then
// blocks the answer, which is the safe way to be wrong.
func (s *Server) anyClientAllows(r *http.Request, origin string) bool {
	ok, err := s.originAllowed(r.Context(), origin)
	if err != nil {
		if !clientGone(r) {
			s.log.LogAttrs(r.Context(), slog.LevelWarn, "cors: origin check failed",
				slog.String("request_id", requestID(r.Context())), slog.String("error", err.Error()))
		}
		return false
	}
	return ok
}

func (s *Server) originAllowed(ctx context.Context, origin string) (bool, error) {
	// Only what a browser could send reaches Origins (and its cache).
	if s.opts.Origins == nil || !oauth.IsOrigin(origin) {
		return false, nil
	}
	return s.opts.Origins.OriginAllowed(ctx, origin)
}

// preflight answers a CORS-preflight request (OPTIONS with
// Access-Control-Request-Method) for an endpoint served with methods. It
// carries no credentials (Fetch), so the origin is checked against every
// client; the actual request is then checked against its own client.
func (s *Server) preflight(methods []string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		origin := r.Header.Get("Origin")
		if origin == "" || r.Header.Get("Access-Control-Request-Method") == "" {
			// A plain OPTIONS request (RFC 9110 §9.3.7).
			h["Allow"] = []string{methods[0] + ", OPTIONS"}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h["Vary"] = hdrVaryOrigin
		ok, err := s.originAllowed(r.Context(), origin)
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		if !ok {
			// No CORS headers: the browser fails the preflight and never
			// sends the request.
			w.WriteHeader(http.StatusForbidden)
			return
		}
		h["Access-Control-Allow-Origin"] = []string{origin}
		h["Access-Control-Allow-Methods"] = methods
		h["Access-Control-Allow-Headers"] = hdrCORSRequestHeaders
		h["Access-Control-Max-Age"] = hdrCORSMaxAge
		w.WriteHeader(http.StatusNoContent)
	}
}

// preflightPublic answers preflights for discovery and the JWKS, which any
// origin may read (no credentials, so the wildcards are honoured).
func (s *Server) preflightPublic(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if r.Header.Get("Access-Control-Request-Method") == "" {
		h["Allow"] = []string{"GET, HEAD, OPTIONS"}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h["Access-Control-Allow-Origin"] = hdrAnyOrigin
	h["Access-Control-Allow-Methods"] = hdrGET
	h["Access-Control-Allow-Headers"] = hdrAnyHeader
	h["Access-Control-Max-Age"] = hdrCORSMaxAge
	w.WriteHeader(http.StatusNoContent)
}
