package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// TestTracesReachCollector: with AUTHD_OTLP_ENDPOINT set, serve exports a
// span per request to an OTLP/HTTP collector (decoded with the OpenTelemetry
// project's own protocol definitions), named by route, as service "authd",
// and the spans still queued at SIGTERM are flushed before it exits.
func TestTracesReachCollector(t *testing.T) {
	var mu sync.Mutex
	var spans, services []string
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
			t.Errorf("collector got %s %s (%s)", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		}
		body, _ := io.ReadAll(r.Body)
		var req coltrace.ExportTraceServiceRequest
		if err := proto.Unmarshal(body, &req); err != nil {
			t.Errorf("collector: %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, rs := range req.ResourceSpans {
			for _, a := range rs.GetResource().GetAttributes() {
				if a.Key == "service.name" {
					services = append(services, a.Value.GetStringValue())
				}
			}
			for _, ss := range rs.ScopeSpans {
				for _, sp := range ss.Spans {
					spans = append(spans, sp.Name)
				}
			}
		}
	}))
	defer collector.Close()

	s := startServer(t, map[string]string{
		"AUTHD_OTLP_ENDPOINT":      collector.URL,
		"AUTHD_TRACE_SAMPLE_RATIO": "1",
	})
	var created map[string]any
	if err := json.Unmarshal(s.cli(t, "client", "create", "--name", "traced", "--scope", "read"), &created); err != nil {
		t.Fatal(err)
	}
	code, _ := postForm(t, s.public+"/oauth2/token", created["client_id"].(string), created["client_secret"].(string),
		url.Values{"grant_type": {"client_credentials"}})
	if code != http.StatusOK {
		t.Fatalf("token: %d", code)
	}
	s.stop(t) // the exporter batches; shutdown flushes what is queued

	mu.Lock()
	defer mu.Unlock()
	t.Logf("spans exported: %q", spans)
	for _, want := range []string{"POST /oauth2/token", "POST /admin/clients"} {
		if !slices.Contains(spans, want) {
			t.Errorf("no %q span among %q", want, spans)
		}
	}
	if len(services) == 0 || slices.IndexFunc(services, func(s string) bool { return s != "authd" }) >= 0 {
		t.Errorf("service.name %q, want authd", services)
	}
	for _, sp := range spans {
		if strings.Contains(sp, "?") {
			t.Errorf("span %q carries a query", sp)
		}
	}
}
