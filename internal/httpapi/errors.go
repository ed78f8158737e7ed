package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/authd/authd/internal/fault"
	"github.com/authd/authd/internal/oauth"
)

type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// writeError sends err as an RFC 6749 §5.2 JSON error, as fault.Classify
// decides: protocol errors as they are, an unavailable dependency as 503
// temporarily_unavailable with Retry-After, anything else as server_error
// with no detail (logged once with the request id); a caller that hung up
// gets nothing but the 499 the access log records.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	c := fault.Classify(r.Context(), err)
	fault.Log(r.Context(), log, c, requestID(r.Context()), r.URL.Path, err)
	if c.Kind == fault.Canceled {
		w.WriteHeader(StatusClientClosedRequest)
		return
	}
	e := c.OAuth
	h := w.Header()
	// RFC 6749 §5.2 answers a client that authenticated with Basic with 401
	// and a challenge; authd answers every invalid_client with 401 (which
	// the RFC allows, to say which schemes it takes), and RFC 9110 §15.5.2
	// then wants the challenge on every one of them.
	if e.Code == oauth.CodeInvalidClient && e.Status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Basic realm="authd", charset="UTF-8"`)
	}
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	writeJSON(w, e.Status, errorBody{Error: e.Code, Description: e.Description})
}

// clientGone reports whether r's caller went away before it was answered
// (net/http cancels the request's context when the connection closes).
func clientGone(r *http.Request) bool {
	return errors.Is(r.Context().Err(), context.Canceled)
}

// writeJSON sends v as JSON with no-store caching: every OAuth response carries
// tokens or token state (RFC 6749 §5.1).
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"error":"server_error"}`)
	}
	writeRaw(w, status, body)
}

// Header values shared by every response. net/http never modifies a header's
// value slice, so assigning these saves an allocation per header per request.
var (
	hdrJSON    = []string{"application/json"}
	hdrNoStore = []string{"no-store"}
	hdrNoCache = []string{"no-cache"}
	hdrNosniff = []string{"nosniff"}
	hdrNoRef   = []string{"no-referrer"}
	hdrDeny    = []string{"DENY"}
	hdrCSPNone = []string{"default-src 'none'; frame-ancestors 'none'"}
)

func writeRaw(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = hdrJSON
	h["Cache-Control"] = hdrNoStore
	h["Pragma"] = hdrNoCache
	// With its length known the answer goes out as one write, headers and
	// all; net/http would otherwise chunk a body past 2 KiB (a batch answer)
	// into a header write and a series of chunk writes. A shorter one it
	// measures itself.
	if len(body) > 2048 {
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
