package outbound

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

// TestPost: a form POST goes through the same rules as Get (refused
// targets are never dialled), reports whatever status came back, does not
// follow redirects and caps the body.
func TestPost(t *testing.T) {
	var hits counter
	var gotType, gotBody string
	mux := http.NewServeMux()
	mux.HandleFunc("POST /ok", func(w http.ResponseWriter, r *http.Request) {
		gotType = r.Header.Get("Content-Type")
		b, _ := io.ReadAll(r.Body)
		gotBody = string(b)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /bad", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_request"}`))
	})
	mux.Handle("POST /redirect", http.RedirectHandler("/ok", http.StatusSeeOther))
	mux.HandleFunc("POST /big", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("x", 2000)))
	})
	srv := httptest.NewServer(hits.wrap(mux.ServeHTTP))
	defer srv.Close()
	port := srv.Listener.Addr().(interface{ AddrPort() netip.AddrPort }).AddrPort().Port()
	form := url.Values{"logout_token": {"a.b.c"}}
	tests := []struct {
		name       string
		opts       Options
		url        string
		wantStatus int
		wantErr    error
		wantHits   int64
	}{
		{"delivered", Options{AllowLoopback: true}, srv.URL + "/ok", http.StatusNoContent, nil, 1},
		{"error answer", Options{AllowLoopback: true}, srv.URL + "/bad", http.StatusBadRequest, nil, 1},
		{"redirect not followed", Options{AllowLoopback: true}, srv.URL + "/redirect", http.StatusSeeOther, nil, 1},
		{"body over the cap", Options{AllowLoopback: true, MaxBytes: 1000}, srv.URL + "/big", 0, ErrTooLarge, 1},
		{"plain http refused", Options{}, srv.URL + "/ok", 0, ErrRefused, 0},
		{"loopback refused", Options{Resolver: fakeDNS(t, netip.MustParseAddr("127.0.0.1"))},
			fmt.Sprintf("https://loopback.test.:%d/ok", port), 0, ErrRefused, 0},
		{"private refused at dial", Options{AllowLoopback: true, Resolver: fakeDNS(t, netip.MustParseAddr("10.0.0.1"))},
			fmt.Sprintf("https://private.test.:%d/ok", port), 0, ErrRefused, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := hits.get()
			f := newFetcher(t, tc.opts)
			resp, err := f.Post(t.Context(), tc.url, form)
			switch {
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Fatalf("Post = %v, want %v", err, tc.wantErr)
			case tc.wantErr == nil && err != nil:
				t.Fatalf("Post: %v", err)
			case tc.wantErr == nil && resp.Status != tc.wantStatus:
				t.Fatalf("status = %d, want %d", resp.Status, tc.wantStatus)
			}
			if n := hits.get() - before; n != tc.wantHits {
				t.Fatalf("the server saw %d requests, want %d", n, tc.wantHits)
			}
		})
	}
	if gotType != "application/x-www-form-urlencoded" || gotBody != "logout_token=a.b.c" {
		t.Fatalf("delivered %q as %q", gotBody, gotType)
	}
}
