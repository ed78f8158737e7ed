package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

// slogLine is the line accessLog writes through slog's JSON handler.
func slogLine(t testing.TB, level slog.Level, method, path, pattern string, st *requestState, status int, took time.Duration) []byte {
	var buf bytes.Buffer
	h := slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
	r := httptest.NewRequest("GET", "/", nil)
	r.Method, r.URL.Path, r.Pattern = method, path, pattern
	accessLog(context.Background(), h, level, r, st, status, took, nil)
	return buf.Bytes()
}

func fastLine(level slog.Level, method, path, pattern string, st *requestState, status int, took time.Duration) []byte {
	r := httptest.NewRequest("GET", "/", nil)
	r.Method, r.URL.Path, r.Pattern = method, path, pattern
	return appendAccessLine(nil, time.Now(), level, r, st, status, took, (*ClientIPs)(nil).Of(r))
}

// sameLine compares two lines member by member, in order, apart from the
// time, which must be RFC 3339 in both.
func sameLine(t testing.TB, fast, slow []byte) {
	t.Helper()
	if !bytes.HasSuffix(fast, []byte("\n")) || bytes.Count(fast, []byte("\n")) != 1 {
		t.Fatalf("not one line: %q", fast)
	}
	members := func(line []byte) ([]string, map[string]any) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if _, err := time.Parse(time.RFC3339Nano, m["time"].(string)); err != nil {
			t.Fatalf("time %v: %v", m["time"], err)
		}
		delete(m, "time")
		dec := json.NewDecoder(bytes.NewReader(line))
		var keys []string
		_, _ = dec.Token()
		for dec.More() {
			k, _ := dec.Token()
			keys = append(keys, k.(string))
			var skip any
			_ = dec.Decode(&skip)
		}
		return keys, m
	}
	fk, fm := members(fast)
	sk, sm := members(slow)
	if !reflect.DeepEqual(fk, sk) || !reflect.DeepEqual(fm, sm) {
		t.Fatalf("fast line\n%s\nslog line\n%s", fast, slow)
	}
	// Past the time, the bytes are the same too.
	cut := func(b []byte) []byte { return b[bytes.Index(b, []byte(`","level"`)):] }
	if !bytes.Equal(cut(fast), cut(slow)) {
		t.Fatalf("same members, different bytes:\n%s\n%s", fast, slow)
	}
}

func TestAccessLineMatchesSlog(t *testing.T) {
	for _, tc := range []struct {
		method, path, pattern, clientID string
		level                           slog.Level
		took                            time.Duration
	}{
		{"POST", "/oauth2/introspect", "POST /oauth2/introspect", "svc", slog.LevelInfo, 1234 * time.Microsecond},
		{"GET", "/", "", "", slog.LevelDebug, 0},
		{"GET", "/x", "GET /x", "", slog.LevelInfo, 2 * time.Second},
		{"GET", "/x", "GET /x", "", slog.LevelInfo, 999 * time.Nanosecond},
		{"PO\"ST", "/a\\b\"c\n\r\t\x00\x1f\x7f", "", "", slog.LevelInfo, 120 * time.Microsecond},
		{"GET", "/\xff\xfe<>&\u2028\u2029é😀", "", "", slog.LevelInfo, time.Microsecond},
		{strings.Repeat("M", 40), "/" + strings.Repeat("p", 300), "", "", slog.LevelInfo, time.Hour},
	} {
		st := &requestState{id: "0123456789abcdef01234567", clientID: tc.clientID}
		sameLine(t, fastLine(tc.level, tc.method, tc.path, tc.pattern, st, 200, tc.took),
			slogLine(t, tc.level, tc.method, tc.path, tc.pattern, st, 200, tc.took))
	}
}

// FuzzAccessLine: whatever a client puts in the method and path, the line
// is one valid JSON line, the same as slog's.
func FuzzAccessLine(f *testing.F) {
	f.Add("GET", "/x", int64(1500))
	f.Add("P\"", "/\xff\u2028\n", int64(0))
	f.Fuzz(func(t *testing.T, method, path string, micros int64) {
		took := time.Duration(micros%(1<<40)) * time.Microsecond
		st := &requestState{id: "id", clientID: "c"}
		sameLine(t, fastLine(slog.LevelInfo, method, path, "", st, 404, took),
			slogLine(t, slog.LevelInfo, method, path, "", st, 404, took))
	})
}
