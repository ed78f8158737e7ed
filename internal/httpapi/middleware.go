package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

type ctxKey int

const requestKey ctxKey = 0

// requestState is what Middleware knows about one request, kept in its
// context: the id, the client a handler authenticated (for the access log),
// whether a client proved itself (for the per-address limit, limits.go), and
// the status writer, all in one allocation.
type requestState struct {
	sw            statusWriter
	id            string
	clientID      string
	authenticated bool
}

func stateOf(ctx context.Context) *requestState {
	st, _ := ctx.Value(requestKey).(*requestState)
	return st
}

func requestID(ctx context.Context) string {
	if st := stateOf(ctx); st != nil {
		return st.id
	}
	return ""
}

// SetClientID records the client a handler authenticated, for the access log
// line Middleware writes when the request is done. Call it from the goroutine
// serving the request, only with an id that authenticated: the log line
// attributes the request to it. Outside Middleware it does nothing.
func SetClientID(ctx context.Context, id string) {
	if st := stateOf(ctx); st != nil {
		st.clientID = id
	}
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

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// StatusClientClosedRequest is what authd records (nginx's 499) for a request
// whose caller hung up before it was answered: not a server error, and not
// counted as one, however the work it started ended.
const StatusClientClosedRequest = 499

// MiddlewareOptions configures Middleware.
type MiddlewareOptions struct {
	// BodyLimit says how many bytes a request may send (FixedLimit for one
	// cap everywhere); nil: 64 KiB.
	BodyLimit func(*http.Request) int64
	// Observe, if set, is told about every request (metrics).
	Observe Observer
	// AccessLog writes one INFO line per request (method, route, path
	// without the query, status, duration, client address and id, request
	// id); off, the same line is written at DEBUG when that is enabled.
	AccessLog bool
	// AccessLogger, if set, receives the access log lines instead of the
	// server's logger (a buffered one: a line per request need not cost a
	// write to the log's file each).
	AccessLogger *slog.Logger
	// AccessLines, if set, receives the access log's lines, one Write
	// each, formatted here as a slog JSON handler would write them
	// (appendAccessLine); the access logger still decides the level.
	AccessLines io.Writer
	// ClientIPs resolves the client address for the access log; nil: the peer.
	ClientIPs *ClientIPs
}

// Middleware is NewMiddleware with a body cap and metrics (observe may be nil)
// and the access log at DEBUG only.
func Middleware(h http.Handler, log *slog.Logger, bodyLimit func(*http.Request) int64, observe Observer) http.Handler {
	return NewMiddleware(h, log, MiddlewareOptions{BodyLimit: bodyLimit, Observe: observe})
}

// NewMiddleware wraps h with what every authd listener needs: a request id, a
// body cap, security headers, panic recovery, metrics when o.Observe is set and
// the access log. It is exported for the admin API.
func NewMiddleware(h http.Handler, log *slog.Logger, o MiddlewareOptions) http.Handler {
	ids := newRequestIDs()
	bodyLimit := o.BodyLimit
	if bodyLimit == nil {
		bodyLimit = FixedLimit(64 << 10)
	}
	observe := o.Observe
	lines := sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}
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
		st := &requestState{id: id, sw: statusWriter{ResponseWriter: w}}
		w = &st.sw
		r = r.WithContext(context.WithValue(r.Context(), requestKey, st))
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, bodyLimit(r))
		}
		start := time.Now()
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
			took := time.Since(start)
			status := max(st.sw.status, http.StatusOK)
			if observe != nil {
				// The mux recorded the matched pattern on this request.
				observe(r.Pattern, status, took)
			}
			if span := trace.SpanFromContext(r.Context()); span.IsRecording() && r.Pattern != "" {
				span.SetName(r.Pattern)
				span.SetAttributes(attribute.String("http.route", r.Pattern), attribute.String("request.id", id))
			}
			level := slog.LevelInfo
			if !o.AccessLog {
				level = slog.LevelDebug
			}
			al := log
			if o.AccessLogger != nil {
				al = o.AccessLogger
			}
			if lh := al.Handler(); lh.Enabled(r.Context(), level) {
				if o.AccessLines != nil {
					bp := lines.Get().(*[]byte)
					*bp = appendAccessLine((*bp)[:0], time.Now(), level, r, st, status, took, o.ClientIPs.Of(r))
					_, _ = o.AccessLines.Write(*bp)
					lines.Put(bp)
				} else {
					accessLog(r.Context(), lh, level, r, st, status, took, o.ClientIPs)
				}
			}
		}()
		h.ServeHTTP(w, r)
	})
}

// accessLog writes the request's line. It carries nothing a caller sent but
// the method and path, bounded: never the query string (RFC 6750 §2.3 puts
// tokens there), headers or body. The record goes straight to the handler:
// Logger.LogAttrs would also walk the stack for a source location that is
// always this function.
func accessLog(ctx context.Context, h slog.Handler, level slog.Level, r *http.Request, st *requestState, status int, took time.Duration, ips *ClientIPs) {
	attrs := [...]slog.Attr{
		slog.String("request_id", st.id),
		slog.String("method", bounded(r.Method, 16)),
		slog.String("route", r.Pattern),
		slog.String("path", bounded(r.URL.Path, 256)),
		slog.Int("status", status),
		slog.Float64("duration_ms", float64(took.Microseconds())/1000),
		slog.String("client_ip", ips.Of(r)),
		slog.String("client_id", st.clientID), // last: dropped when unknown
	}
	n := len(attrs)
	if st.clientID == "" {
		n--
	}
	rec := slog.NewRecord(time.Now(), level, "request", 0)
	rec.AddAttrs(attrs[:n]...)
	_ = h.Handle(ctx, rec)
}

// bounded cuts an untrusted string for a log line; the JSON handler escapes
// what is left.
func bounded(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// FixedLimit is a bodyLimit for Middleware that allows n bytes everywhere.
func FixedLimit(n int64) func(*http.Request) int64 {
	return func(*http.Request) int64 { return n }
}

// RequestIDFrom returns the request id Middleware put in ctx.
func RequestIDFrom(ctx context.Context) string { return requestID(ctx) }
