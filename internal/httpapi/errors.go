package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/store"
)

type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// writeError sends err as an RFC 6749 §5.2 JSON error. Anything that is not an
// *oauth.Error is a fault of ours: it is logged with the request id and the
// caller gets server_error (or temporarily_unavailable when a backend is down)
// with no detail.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	e, ok := oauth.As(err)
	if !ok {
		if clientGone(r) {
			// The caller hung up, so whatever failed failed because its
			// context was canceled (the store reports that in its own words):
			// nothing is wrong with us and no one is left to answer.
			log.LogAttrs(r.Context(), slog.LevelDebug, "request canceled by the client",
				slog.String("request_id", requestID(r.Context())),
				slog.String("path", r.URL.Path),
				slog.String("error", err.Error()))
			w.WriteHeader(StatusClientClosedRequest)
			return
		}
		switch {
		case errors.Is(err, store.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
			e = oauth.TemporarilyUnavailable("", 1)
		default:
			e = oauth.ServerError()
		}
		log.LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String("request_id", requestID(r.Context())),
			slog.String("path", r.URL.Path),
			slog.String("error", err.Error()))
	}
	h := w.Header()
	if e.Code == oauth.CodeInvalidClient && e.BasicAuthTried {
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
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
