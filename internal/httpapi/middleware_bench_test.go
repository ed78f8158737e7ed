package httpapi_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/authd/authd/internal/httpapi"
)

// BenchmarkMiddleware is the cost of the shared middleware alone (request id,
// headers, status writer, metrics hook and, when on, the access log as JSON to
// io.Discard) around a handler that does nothing.
func BenchmarkMiddleware(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "accesslog=off"
		if on {
			name = "accesslog=on"
		}
		b.Run(name, func(b *testing.B) {
			log := slog.New(slog.NewJSONHandler(io.Discard, nil))
			h := httpapi.NewMiddleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				httpapi.SetClientID(r.Context(), "svc")
				w.WriteHeader(http.StatusOK)
			}), log, httpapi.MiddlewareOptions{
				BodyLimit: httpapi.FixedLimit(1 << 10),
				Observe:   func(string, int, time.Duration) {},
				AccessLog: on,
			})
			r := httptest.NewRequest(http.MethodPost, httpapi.PathToken, http.NoBody)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
			}
		})
	}
}
