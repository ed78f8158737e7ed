package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/internal/httpapi"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/testenv"
)

// logLines decodes the JSON log lines whose msg is msg.
func logLines(t *testing.T, log, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(log))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// TestAccessLog runs through slog and through Options.AccessLines (the
// middleware's own formatting, as serve uses it): the lines say the same.
func TestAccessLog(t *testing.T) {
	t.Run("slog", func(t *testing.T) { testAccessLog(t, false) })
	t.Run("lines", func(t *testing.T) { testAccessLog(t, true) })
}

func testAccessLog(t *testing.T, direct bool) {
	lines := &testenv.Buffer{}
	h := newHarness(t, func(c *harnessConfig) {
		c.api.AccessLog = true
		if direct {
			c.api.AccessLines = lines
		}
	})
	logText := h.logBuf.String
	if direct {
		logText = lines.String
	}
	h.addClient("svc", "svc-secret", nil)
	tok := h.token("svc", "svc-secret", nil)

	tests := []struct {
		name       string
		do         func() *httptest.ResponseRecorder
		wantRoute  string
		wantPath   string
		wantStatus float64
		wantClient string // "" means the attribute must be absent
	}{
		{"token, query string dropped", func() *httptest.ResponseRecorder {
			return h.do(http.MethodPost, httpapi.PathToken+"?access_token=leak-me-query", "application/x-www-form-urlencoded",
				"grant_type=client_credentials", withBasic("svc", "svc-secret"))
		}, "POST /oauth2/token", httpapi.PathToken, 200, "svc"},
		{"wrong secret: no client_id", func() *httptest.ResponseRecorder {
			return h.postForm(httpapi.PathToken, url.Values{"grant_type": {"client_credentials"}}, withBasic("svc", "leak-me-secret"))
		}, "POST /oauth2/token", httpapi.PathToken, 401, ""},
		{"introspect", func() *httptest.ResponseRecorder {
			return h.postForm(httpapi.PathIntrospect, url.Values{"token": {tok}}, withBasic("svc", "svc-secret"))
		}, "POST /oauth2/introspect", httpapi.PathIntrospect, 200, "svc"},
		{"revoke", func() *httptest.ResponseRecorder {
			return h.postForm(httpapi.PathRevoke, url.Values{"token": {"leak-me-token"}}, withBasic("svc", "svc-secret"))
		}, "POST /oauth2/revoke", httpapi.PathRevoke, 200, "svc"},
		{"unmatched path", func() *httptest.ResponseRecorder {
			return h.do(http.MethodGet, "/no/such?x=leak-me-query", "", "")
		}, "/", "/no/such", 404, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			since := len(logText())
			w := tc.do()
			log := logText()[since:]
			lines := logLines(t, log, "request")
			if len(lines) != 1 {
				t.Fatalf("%d access log lines in %s", len(lines), log)
			}
			l := lines[0]
			if l["level"] != "INFO" || l["method"] == nil || l["route"] != tc.wantRoute || l["path"] != tc.wantPath ||
				l["status"] != tc.wantStatus || l["client_ip"] != "192.0.2.1" || l["request_id"] != w.Header().Get("X-Request-Id") {
				t.Errorf("line = %v", l)
			}
			if ms, ok := l["duration_ms"].(float64); !ok || ms < 0 {
				t.Errorf("duration_ms = %v", l["duration_ms"])
			}
			if got, present := l["client_id"]; (tc.wantClient == "" && present) || (tc.wantClient != "" && got != tc.wantClient) {
				t.Errorf("client_id = %v, want %q", got, tc.wantClient)
			}
			if all := logText(); strings.Contains(all, "leak-me") || strings.Contains(all, tok) || strings.Contains(all, "svc-secret") {
				t.Errorf("log carries a secret, token or query: %s", all)
			}
		})
	}

	t.Run("client address through a trusted proxy", func(t *testing.T) {
		ips, err := httpapi.NewClientIPs([]string{"192.0.2.0/24"})
		if err != nil {
			t.Fatal(err)
		}
		h := newHarness(t, func(c *harnessConfig) { c.api.AccessLog = true; c.api.ClientIPs = ips })
		h.do(http.MethodGet, "/healthz", "", "", withHeader("X-Forwarded-For", "203.0.113.7"))
		if l := logLines(t, h.logBuf.String(), "request"); len(l) != 1 || l[0]["client_ip"] != "203.0.113.7" {
			t.Fatalf("lines = %v", l)
		}
	})
	t.Run("off", func(t *testing.T) {
		h := newHarness(t)
		h.do(http.MethodGet, "/healthz", "", "")
		if l := logLines(t, h.logBuf.String(), "request"); len(l) != 0 {
			t.Fatalf("access log written while off: %v", l)
		}
	})
}

// observed records what the metrics observer is told.
type observed struct {
	mu       sync.Mutex
	statuses []int
}

func (o *observed) observe(_ string, status int, _ time.Duration) {
	o.mu.Lock()
	o.statuses = append(o.statuses, status)
	o.mu.Unlock()
}

// TestClientHangUp: a caller that goes away mid-request is not a server
// error: no ERROR line, and 499 for the metrics and the access log.
func TestClientHangUp(t *testing.T) {
	obs := &observed{}
	h := newHarness(t, func(c *harnessConfig) {
		c.api.AccessLog = true
		c.api.Observe = obs.observe
	})
	h.addClient("svc", "svc-secret", func(c *oauth.Client) { c.AccessTokenFormat = oauth.FormatOpaque })
	for _, path := range []string{httpapi.PathToken, "/readyz"} {
		t.Run(path, func(t *testing.T) {
			since := len(h.logBuf.String())
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // as net/http does when the connection closes
			r := httptest.NewRequestWithContext(ctx, http.MethodPost, path, strings.NewReader("grant_type=client_credentials"))
			if path == "/readyz" {
				r.Method = http.MethodGet
			}
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.SetBasicAuth("svc", "svc-secret")
			w := httptest.NewRecorder()
			h.srv.ServeHTTP(w, r)
			if w.Code != httpapi.StatusClientClosedRequest {
				t.Errorf("status %d, want 499", w.Code)
			}
			log := h.logBuf.String()[since:]
			if strings.Contains(log, `"level":"ERROR"`) || strings.Contains(log, `"level":"WARN"`) {
				t.Errorf("hang-up logged as a failure: %s", log)
			}
			if l := logLines(t, log, "request"); len(l) != 1 || l[0]["status"] != 499.0 {
				t.Errorf("access log = %v", l)
			}
			obs.mu.Lock()
			last := obs.statuses[len(obs.statuses)-1]
			obs.mu.Unlock()
			if last != httpapi.StatusClientClosedRequest {
				t.Errorf("observer got %d", last)
			}
		})
	}
	t.Run("a real failure is still an error", func(t *testing.T) {
		h := newHarness(t, func(c *harnessConfig) { c.api.AccessLog = true })
		h.addClient("svc", "svc-secret", nil)
		h.db.Close()
		w := h.postForm(httpapi.PathToken, url.Values{"grant_type": {"client_credentials"}}, withBasic("svc", "svc-secret"))
		if w.Code < 500 || !strings.Contains(h.logBuf.String(), `"level":"ERROR"`) {
			t.Fatalf("%d %s", w.Code, h.logBuf.String())
		}
	})
}
