package outbound

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/internal/testenv/clocktest"
)

// step advances the clock, Gets, and checks how many requests the server
// has seen by then.
type step struct {
	advance  time.Duration
	wantHits int64
	wantErr  error
}

func runSteps(t *testing.T, f testFetcher, clk *clocktest.Clock, url string, hits *counter, steps []step) []*Document {
	t.Helper()
	var docs []*Document
	for i, s := range steps {
		clk.Advance(s.advance)
		doc, err := f.Get(t.Context(), url, jsonType)
		if !errors.Is(err, s.wantErr) {
			t.Fatalf("step %d (+%v): Get = %v, want %v", i, s.advance, err, s.wantErr)
		}
		if got := hits.get(); got != s.wantHits {
			t.Fatalf("step %d (+%v): the server saw %d requests, want %d", i, s.advance, got, s.wantHits)
		}
		docs = append(docs, doc)
	}
	return docs
}

// TestFreshness: how long a response is served from the cache, by its
// fields (RFC 9111 §4.2.1, §5.2.2), within the floor and ceiling.
func TestFreshness(t *testing.T) {
	const s = time.Second
	tests := []struct {
		name   string
		header func(now time.Time) map[string]string
		steps  []step
	}{
		{"max-age", fields("Cache-Control", "max-age=120"),
			[]step{{0, 1, nil}, {119 * s, 1, nil}, {2 * s, 2, nil}}},
		{"max-age below the floor", fields("Cache-Control", "max-age=5"),
			[]step{{0, 1, nil}, {59 * s, 1, nil}, {2 * s, 2, nil}}},
		{"max-age above the ceiling", fields("Cache-Control", "public, max-age=999999999999"),
			[]step{{0, 1, nil}, {24*time.Hour - s, 1, nil}, {2 * s, 2, nil}}},
		{"nothing said: the default", fields(),
			[]step{{0, 1, nil}, {5*time.Minute - s, 1, nil}, {2 * s, 2, nil}}},
		{"Expires minus Date", func(now time.Time) map[string]string {
			return map[string]string{
				"Date":    now.Add(-time.Hour).Format(http.TimeFormat), // the server's clock is an hour behind
				"Expires": now.Add(-time.Hour + 10*time.Minute).Format(http.TimeFormat),
			}
		}, []step{{0, 1, nil}, {10*time.Minute - s, 1, nil}, {2 * s, 2, nil}}},
		{"max-age over Expires", func(now time.Time) map[string]string {
			return map[string]string{"Cache-Control": "max-age=600", "Expires": now.Add(time.Hour).Format(http.TimeFormat)}
		}, []step{{0, 1, nil}, {600*s - s, 1, nil}, {2 * s, 2, nil}}},
		{"invalid Expires is already expired", fields("Expires", "0"),
			[]step{{0, 1, nil}, {59 * s, 1, nil}, {2 * s, 2, nil}}},
		{"invalid max-age is stale", fields("Cache-Control", "max-age=soon"),
			[]step{{0, 1, nil}, {59 * s, 1, nil}, {2 * s, 2, nil}}},
		{"Age is subtracted", fields("Cache-Control", "max-age=600", "Age", "500"),
			[]step{{0, 1, nil}, {99 * s, 1, nil}, {2 * s, 2, nil}}},
		{"no-cache: revalidated after the floor", fields("Cache-Control", "no-cache, max-age=600"),
			[]step{{0, 1, nil}, {59 * s, 1, nil}, {2 * s, 2, nil}}},
		{"no-store: never stored", fields("Cache-Control", "max-age=600, no-store"),
			[]step{{0, 1, nil}, {0, 2, nil}, {s, 3, nil}}},
		{"Vary: * is never stored", fields("Cache-Control", "max-age=600", "Vary", "Accept, *"),
			[]step{{0, 1, nil}, {0, 2, nil}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := clocktest.New(start)
			var hits counter
			srv := httptest.NewServer(hits.wrap(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.header(clk.Now()) {
					w.Header().Set(k, v)
				}
				jsonHandler(`{}`)(w, r)
			}))
			defer srv.Close()
			f := newFetcher(t, Options{AllowLoopback: true, Now: clk.Now})
			runSteps(t, f, clk, srv.URL, &hits, tc.steps)
		})
	}
}

func fields(kv ...string) func(time.Time) map[string]string {
	return func(time.Time) map[string]string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
}

// TestRevalidation: an expired document with a validator is revalidated
// with a conditional request, and a 304 freshens it with its own fields
// (RFC 9111 §4.3).
func TestRevalidation(t *testing.T) {
	lastModified := start.Add(-24 * time.Hour).Format(http.TimeFormat)
	tests := []struct {
		name             string
		validator, value string // response field and its value
		condition        string // the request field that must carry it
	}{
		{"ETag", "ETag", `"v1"`, "If-None-Match"},
		{"Last-Modified", "Last-Modified", lastModified, "If-Modified-Since"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := clocktest.New(start)
			var hits counter
			var mu sync.Mutex
			var conditions []string
			srv := httptest.NewServer(hits.wrap(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				conditions = append(conditions, r.Header.Get(tc.condition))
				mu.Unlock()
				if r.Header.Get(tc.condition) == tc.value {
					w.Header().Set("Cache-Control", "max-age=600")
					w.WriteHeader(http.StatusNotModified)
					return
				}
				w.Header().Set(tc.validator, tc.value)
				w.Header().Set("Cache-Control", "max-age=60")
				jsonHandler(`{"v":1}`)(w, r)
			}))
			defer srv.Close()
			f := newFetcher(t, Options{AllowLoopback: true, Now: clk.Now})
			docs := runSteps(t, f, clk, srv.URL, &hits, []step{
				{0, 1, nil},
				{61 * time.Second, 2, nil},  // expired: revalidated, 304
				{599 * time.Second, 2, nil}, // fresh for the 304's max-age
				{2 * time.Second, 3, nil},   // and revalidated again after it
			})
			if string(docs[1].Body) != `{"v":1}` || docs[1].ContentType != jsonType {
				t.Fatalf("after the 304: %q %q", docs[1].Body, docs[1].ContentType)
			}
			if want := start.Add(61 * time.Second).Add(600 * time.Second); !docs[1].Expires.Equal(want) {
				t.Fatalf("after the 304 the document expires at %v, want %v", docs[1].Expires, want)
			}
			mu.Lock()
			defer mu.Unlock()
			if want := []string{"", tc.value, tc.value}; fmt.Sprint(conditions) != fmt.Sprint(want) {
				t.Fatalf("%s sent: %q, want %q", tc.condition, conditions, want)
			}
			if got := f.fetches(t, resultNotModified); got != 2 {
				t.Fatalf("not_modified fetches = %v, want 2", got)
			}
			if got := f.hits(t, "fresh"); got != 1 {
				t.Fatalf("fresh hits = %v, want 1", got)
			}
		})
	}
}

// TestStaleOnError: when a fetch fails, the expired document is served
// for StaleFor (unless must-revalidate), the failure is remembered for
// ErrorTTL, and after StaleFor the error is the answer.
func TestStaleOnError(t *testing.T) {
	const s = time.Second
	tests := []struct {
		name         string
		cacheControl string
		steps        []step
	}{
		{"served stale, then the error", "max-age=60", []step{
			{0, 1, nil},
			{61 * s, 2, nil},                      // fails: stale
			{5 * s, 2, nil},                       // within ErrorTTL: no request, stale
			{6 * s, 3, nil},                       // after it: tried again, stale
			{time.Hour - 10*s, 4, ErrUnavailable}, // past StaleFor: the error
			{s, 4, ErrUnavailable},                // remembered
		}},
		{"must-revalidate: never stale", "max-age=60, must-revalidate", []step{
			{0, 1, nil},
			{61 * s, 2, ErrUnavailable},
			{s, 2, ErrUnavailable},
			{10 * s, 3, ErrUnavailable},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := clocktest.New(start)
			var hits counter
			srv := httptest.NewServer(hits.wrap(func(w http.ResponseWriter, r *http.Request) {
				if hits.get() > 1 {
					http.Error(w, "down", http.StatusServiceUnavailable)
					return
				}
				w.Header().Set("Cache-Control", tc.cacheControl)
				jsonHandler(`{"v":1}`)(w, r)
			}))
			defer srv.Close()
			f := newFetcher(t, Options{AllowLoopback: true, Now: clk.Now})
			docs := runSteps(t, f, clk, srv.URL, &hits, tc.steps)
			for i, d := range docs {
				if d != nil && d != docs[0] {
					t.Fatalf("step %d served another document than the first", i)
				}
			}
		})
	}
}

// TestFailureRemembered: a URL that fails is not fetched again for
// ErrorTTL, whatever the failure.
func TestFailureRemembered(t *testing.T) {
	var hits counter
	srv := httptest.NewServer(hits.wrap(http.NotFound))
	defer srv.Close()
	clk := clocktest.New(start)
	f := newFetcher(t, Options{AllowLoopback: true, Now: clk.Now})
	runSteps(t, f, clk, srv.URL, &hits, []step{
		{0, 1, ErrBadResponse},
		{DefaultErrorTTL - time.Second, 1, ErrBadResponse},
		{time.Second, 2, ErrBadResponse},
	})
	if got := f.hits(t, "negative"); got != 1 {
		t.Fatalf("negative hits = %v, want 1", got)
	}
}

// TestCacheBound: the least recently used entry goes when the cache is
// full.
func TestCacheBound(t *testing.T) {
	var hits counter
	srv := httptest.NewServer(hits.wrap(jsonHandler(`{}`)))
	defer srv.Close()
	clk := clocktest.New(start)
	f := newFetcher(t, Options{AllowLoopback: true, Now: clk.Now, MaxEntries: 2})
	get := func(path string, wantHits int64) {
		t.Helper()
		if _, err := f.Get(t.Context(), srv.URL+path, jsonType); err != nil {
			t.Fatal(err)
		}
		if got := hits.get(); got != wantHits {
			t.Fatalf("after %s the server saw %d requests, want %d", path, got, wantHits)
		}
	}
	get("/a", 1)
	get("/b", 2)
	get("/a", 2) // a is now the most recent
	get("/c", 3) // evicts b
	get("/a", 3)
	get("/b", 4)
	if n := f.cache.len(); n != 2 {
		t.Fatalf("the cache holds %d entries", n)
	}
}

// TestAcceptIsPartOfTheKey: one URL asked for with different media types
// is two entries (a server may vary by Accept).
func TestAcceptIsPartOfTheKey(t *testing.T) {
	var hits counter
	srv := httptest.NewServer(hits.wrap(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", r.Header.Get("Accept"))
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	f := newFetcher(t, Options{AllowLoopback: true})
	for _, accept := range []string{jsonType, "application/jwk-set+json", jsonType} {
		doc, err := f.Get(t.Context(), srv.URL, accept)
		if err != nil || doc.ContentType != accept {
			t.Fatalf("Get(%s) = %v, %v", accept, doc, err)
		}
	}
	if n := hits.get(); n != 2 {
		t.Fatalf("the server saw %d requests, want 2", n)
	}
}

func TestLRUBytes(t *testing.T) {
	c := newLRU(100, 3000)
	big := &entry{doc: &Document{Body: make([]byte, 1000)}}
	for i, k := range []string{"a", "b", "c"} {
		if ev := c.put(k, big); ev != 0 && i < 2 {
			t.Fatalf("put %s evicted %d", k, ev)
		}
	}
	if c.get("a") != nil || c.get("c") == nil {
		t.Fatal("the byte bound did not evict the oldest")
	}
	// A single entry larger than the bound is kept: the bound is on the rest.
	huge := &entry{doc: &Document{Body: make([]byte, 10000)}}
	c.put("h", huge)
	if c.get("h") == nil || c.len() != 1 {
		t.Fatalf("after a huge entry: %d entries", c.len())
	}
	c.delete("h")
	if c.len() != 0 || c.bytes != 0 {
		t.Fatalf("after delete: %d entries, %d bytes", c.len(), c.bytes)
	}
}
