package telemetry_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/authd/authd/internal/httpapi"
	"github.com/authd/authd/internal/telemetry"
)

// A span per request reaches an OTLP/HTTP collector, named by route pattern,
// and a caller's traceparent is honoured.
func TestTracingExportsSpans(t *testing.T) {
	var mu sync.Mutex
	var names []string
	var traceIDs [][]byte
	var attrs []string
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req coltrace.ExportTraceServiceRequest
		if err := proto.Unmarshal(body, &req); err != nil {
			t.Errorf("collector: %v", err)
		}
		mu.Lock()
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, sp := range ss.Spans {
					names = append(names, sp.Name)
					for _, a := range sp.Attributes {
						attrs = append(attrs, a.Key+"="+a.Value.String())
					}
					traceIDs = append(traceIDs, sp.TraceId)
				}
			}
		}
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	defer collector.Close()

	tr, err := telemetry.NewTracing(context.Background(), telemetry.TracingOptions{Endpoint: collector.URL, SampleRatio: 1})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth2/token", func(w http.ResponseWriter, r *http.Request) {})
	h := tr.Wrap("public", httpapi.Middleware(mux, slog.New(slog.DiscardHandler), httpapi.FixedLimit(1024), nil))
	srv := httptest.NewServer(h)
	defer srv.Close()

	req, _ := http.NewRequest("POST", srv.URL+"/oauth2/token?secret=never-recorded", strings.NewReader("client_secret=s3cret"))
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(names) != 1 || names[0] != "POST /oauth2/token" {
		t.Fatalf("spans = %q", names)
	}
	t.Logf("span attributes: %v", attrs)
	for _, a := range attrs {
		if strings.Contains(a, "never-recorded") || strings.Contains(a, "s3cret") {
			t.Fatalf("span attribute carries request data: %s", a)
		}
	}
	if want := "4bf92f3577b34da6a3ce929d0e0e4736"; len(traceIDs[0]) != 16 || strings.ToLower(hexOf(traceIDs[0])) != want {
		t.Fatalf("trace id %x, want the caller's %s", traceIDs[0], want)
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, len(b)*2)
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&0xf])
	}
	return string(out)
}

func TestNilTracingIsNoop(t *testing.T) {
	var tr *telemetry.Tracing
	h := http.NotFoundHandler()
	if got := tr.Wrap("public", h); got == nil {
		t.Fatal("nil Tracing must return the handler")
	}
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}
