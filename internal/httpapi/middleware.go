package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

type ctxKey int

const requestIDKey ctxKey = 0

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// validRequestID accepts a caller's X-Request-Id only if it is short and plain,
// so it cannot inject into logs or headers.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

// requestIDs makes request ids: they need to be unique, not secret, so a
// random prefix per listener and a counter give 24 hex characters without a
// crypto/rand call per request.
type requestIDs struct {
	prefix [6]byte
	n      atomic.Uint64
}

func newRequestIDs() *requestIDs {
	g := &requestIDs{}
	_, _ = rand.Read(g.prefix[:])
	return g
}

func (g *requestIDs) next() string {
	var b [12]byte
	copy(b[:6], g.prefix[:])
	n := g.n.Add(1)
	for i := 11; i >= 6; i-- {
		b[i] = byte(n)
		n >>= 8
	}
	return hex.EncodeToString(b[:])
}

// Observer is told about every request once it is answered: the route
// pattern that served it ("" when none matched), the status and the time taken.
type Observer func(pattern string, status int, took time.Duration)

// statusWriter remembers the status a handler sent.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Middleware wraps h with what every authd listener needs: a request id, a body
// cap (bodyLimit says how many bytes a request may send), security headers,
// panic recovery and, when observe is not nil, metrics. It is exported for
// the admin API.
func Middleware(h http.Handler, log *slog.Logger, bodyLimit func(*http.Request) int64, observe Observer) http.Handler {
	ids := newRequestIDs()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = ids.next()
		}
		hd := w.Header()
		hd["X-Request-Id"] = []string{id}
		hd["X-Content-Type-Options"] = hdrNosniff
		hd["Referrer-Policy"] = hdrNoRef
		hd["X-Frame-Options"] = hdrDeny
		// Handlers that serve HTML replace this with their own policy (Set
		// allocates a new slice, so the shared one is never written to).
		hd["Content-Security-Policy"] = hdrCSPNone
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey, id))
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, bodyLimit(r))
		}
		start := time.Now()
		var sw *statusWriter
		if observe != nil {
			sw = &statusWriter{ResponseWriter: w}
			w = sw
		}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.LogAttrs(r.Context(), slog.LevelError, "panic",
					slog.String("request_id", id), slog.String("path", r.URL.Path),
					slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
				writeJSON(w, http.StatusInternalServerError, errorBody{Error: "server_error"})
			}
			if sw != nil {
				// The mux recorded the matched pattern on this request.
				observe(r.Pattern, max(sw.status, http.StatusOK), time.Since(start))
			}
			if span := trace.SpanFromContext(r.Context()); span.IsRecording() && r.Pattern != "" {
				span.SetName(r.Pattern)
				span.SetAttributes(attribute.String("http.route", r.Pattern), attribute.String("request.id", id))
			}
			if log.Enabled(r.Context(), slog.LevelDebug) {
				log.LogAttrs(r.Context(), slog.LevelDebug, "request",
					slog.String("request_id", id), slog.String("method", r.Method),
					slog.String("path", r.URL.Path), slog.Duration("took", time.Since(start)))
			}
		}()
		h.ServeHTTP(w, r)
	})
}

// FixedLimit is a bodyLimit for Middleware that allows n bytes everywhere.
func FixedLimit(n int64) func(*http.Request) int64 {
	return func(*http.Request) int64 { return n }
}

// RequestIDFrom returns the request id Middleware put in ctx.
func RequestIDFrom(ctx context.Context) string { return requestID(ctx) }
