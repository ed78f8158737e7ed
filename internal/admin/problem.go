package admin

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/authd/authd/internal/fault"
	"github.com/authd/authd/internal/httpapi"
	"github.com/authd/authd/internal/store"
)

// problem is an RFC 9457 problem detail. Type stays about:blank, so Title is the
// status text and Detail says what was wrong.
type problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	// Field names the request member that was invalid, when there is one.
	Field string `json:"field,omitempty"`
}

// Error is an admin error with the status it is sent with.
type Error struct {
	Status int
	Detail string
	Field  string
}

func (e *Error) Error() string { return e.Detail }

func badRequest(field, detail string) *Error {
	return &Error{Status: http.StatusBadRequest, Detail: detail, Field: field}
}

func writeProblem(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var e *Error
	switch {
	case errors.As(err, &e):
	case errors.Is(err, store.ErrNotFound):
		e = &Error{Status: http.StatusNotFound, Detail: "no such resource"}
	case errors.Is(err, store.ErrConflict):
		e = &Error{Status: http.StatusConflict, Detail: "a resource with that identifier already exists"}
	default:
		// What is left means the same here as at the OAuth endpoints.
		c := fault.Classify(r.Context(), err)
		fault.Log(r.Context(), log, c, httpapi.RequestIDFrom(r.Context()), r.URL.Path, err)
		switch c.Kind {
		case fault.Canceled:
			w.WriteHeader(httpapi.StatusClientClosedRequest)
			return
		case fault.Unavailable:
			e = &Error{Status: http.StatusServiceUnavailable, Detail: "a dependency is unavailable; retry shortly"}
		case fault.Protocol:
			e = &Error{Status: c.OAuth.Status, Detail: c.OAuth.Description}
		default:
			e = &Error{Status: http.StatusInternalServerError, Detail: "internal error; see the server log for request id " + httpapi.RequestIDFrom(r.Context())}
		}
	}
	body, _ := json.Marshal(problem{
		Type:     "about:blank",
		Title:    http.StatusText(e.Status),
		Status:   e.Status,
		Detail:   e.Detail,
		Instance: r.URL.Path,
		Field:    e.Field,
	})
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	if e.Status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="authd-admin"`)
	}
	if e.Status == http.StatusServiceUnavailable {
		h.Set("Retry-After", strconv.Itoa(fault.RetryAfter)) // RFC 9110 §10.2.3
	}
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"type":"about:blank","title":"Internal Server Error","status":500}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// decode reads a JSON body strictly enough to give a clear error.
func decode(r *http.Request, v any) error {
	ct := r.Header.Get("Content-Type")
	if ct != "" && ct != "application/json" && !(len(ct) > 17 && ct[:17] == "application/json;") {
		return &Error{Status: http.StatusUnsupportedMediaType, Detail: "Content-Type must be application/json"}
	}
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &Error{Status: http.StatusRequestEntityTooLarge, Detail: "request body too large"}
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return badRequest(te.Field, "member "+te.Field+" has the wrong type")
		}
		return badRequest("", "the body must be a JSON object")
	}
	if dec.More() {
		return badRequest("", "the body must be a single JSON object")
	}
	return nil
}
