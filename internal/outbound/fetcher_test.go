package outbound

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

const jsonType = "application/json"

func jsonHandler(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", jsonType)
		_, _ = w.Write([]byte(body))
	}
}

// TestLoopbackRefusedByDefault: without AllowLoopback nothing reaches a
// loopback server, whether named by address or by a name that resolves to
// it, over https or plain http.
func TestLoopbackRefusedByDefault(t *testing.T) {
	var hits counter
	srv := httptest.NewTLSServer(hits.wrap(jsonHandler(`{}`)))
	defer srv.Close()
	port := srv.Listener.Addr().(interface{ AddrPort() netip.AddrPort }).AddrPort().Port()
	f := newFetcher(t, Options{
		RootCAs:  certPool(t, srv),
		Resolver: fakeDNS(t, netip.MustParseAddr("127.0.0.1")),
	})
	for _, u := range []string{
		srv.URL,
		strings.Replace(srv.URL, "https:", "http:", 1),
		fmt.Sprintf("https://[::1]:%d/", port),
		fmt.Sprintf("https://[::ffff:127.0.0.1]:%d/", port),
		fmt.Sprintf("https://loopback.test.:%d/", port), // refused at dial time
	} {
		t.Run(u, func(t *testing.T) {
			_, err := f.Get(t.Context(), u, jsonType)
			if !errors.Is(err, ErrRefused) {
				t.Fatalf("Get = %v, want ErrRefused", err)
			}
		})
	}
	if n := hits.get(); n != 0 {
		t.Fatalf("the server saw %d requests", n)
	}
	if got := f.fetches(t, resultRefused); got != 5 {
		t.Fatalf("refused fetches = %v, want 5", got)
	}
}

// TestDialTimeCheck resolves names through a DNS server that answers a
// chosen address: whatever the name, the address is checked when the
// connection is dialled (which is what defeats DNS rebinding). The last
// case proves that the resolver is in use: it reaches the test server.
func TestDialTimeCheck(t *testing.T) {
	var hits counter
	srv := httptest.NewServer(hits.wrap(jsonHandler(`{"ok":true}`)))
	defer srv.Close()
	port := srv.Listener.Addr().(interface{ AddrPort() netip.AddrPort }).AddrPort().Port()
	tests := []struct {
		name, answer, scheme string
		allow                bool
		wantErr              error
		wantMsg              string
	}{
		{"private", "10.0.0.1", "https", true, ErrRefused, "10.0.0.1 is private"},
		{"metadata", "169.254.169.254", "https", true, ErrRefused, "169.254.169.254 is link-local"},
		{"CGNAT", "100.64.1.1", "https", true, ErrRefused, "100.64.1.1 is shared"},
		{"unique local v6", "fd00::1", "https", true, ErrRefused, "fd00::1 is unique local"},
		{"loopback by default", "127.0.0.1", "https", false, ErrRefused, "127.0.0.1 is loopback"},
		{"plain http to a private name", "192.168.1.1", "http", true, ErrRefused, "192.168.1.1 is private"},
		{"loopback allowed", "127.0.0.1", "http", true, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFetcher(t, Options{AllowLoopback: tc.allow, Resolver: fakeDNS(t, netip.MustParseAddr(tc.answer))})
			before := hits.get()
			doc, err := f.Get(t.Context(), fmt.Sprintf("%s://jwks.example.test.:%d/keys", tc.scheme, port), jsonType)
			if !errors.Is(err, tc.wantErr) || (err != nil && !strings.Contains(err.Error(), tc.wantMsg)) {
				t.Fatalf("Get = %v, want %v (%s)", err, tc.wantErr, tc.wantMsg)
			}
			if tc.wantErr == nil && (string(doc.Body) != `{"ok":true}` || hits.get() != before+1) {
				t.Fatalf("Get = %q after %d requests, want the server's document", doc.Body, hits.get()-before)
			}
		})
	}
}

func TestRedirects(t *testing.T) {
	mux := http.NewServeMux()
	var referer string
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		referer = r.Header.Get("Referer")
		jsonHandler(`{"ok":true}`)(w, r)
	})
	redirect := func(path, to string) {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, to, http.StatusFound)
		})
	}
	var loops counter
	mux.HandleFunc("/loop", loops.wrap(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusFound)
	}))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	redirect("/to-ok", "/ok")
	redirect("/chain1", "/chain2")
	redirect("/chain2", "/chain3")
	redirect("/chain3", "/ok")
	redirect("/to-metadata", "http://169.254.169.254/latest/meta-data/")
	redirect("/to-private", "https://10.0.0.1/jwks")
	redirect("/to-mapped", "https://[::ffff:169.254.169.254]/")
	redirect("/to-credentials", "http://user:pw@"+host+"/ok")
	redirect("/to-ftp", "ftp://"+host+"/ok")
	redirect("/to-private-name", "http://internal.test.:80/") // resolves to 10.0.0.1: refused at dial time

	tests := []struct {
		path    string
		wantErr error
	}{
		{"/to-ok", nil},
		{"/chain1", nil}, // three redirects: the limit
		{"/to-metadata", ErrRefused},
		{"/to-private", ErrRefused},
		{"/to-mapped", ErrRefused},
		{"/to-credentials", ErrRefused},
		{"/to-ftp", ErrRefused},
		{"/to-private-name", ErrRefused},
		{"/loop", ErrRefused},
	}
	f := newFetcher(t, Options{AllowLoopback: true, Resolver: fakeDNS(t, netip.MustParseAddr("10.0.0.1"))})
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			referer = "unset"
			doc, err := f.Get(t.Context(), srv.URL+tc.path, jsonType)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Get = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == nil && (string(doc.Body) != `{"ok":true}` || referer != "") {
				t.Fatalf("Get = %q with Referer %q", doc.Body, referer)
			}
		})
	}
	if n := loops.get(); n != DefaultMaxRedirects+1 {
		t.Fatalf("the loop was followed %d times, want %d", n, DefaultMaxRedirects+1)
	}
}

func TestResponseRules(t *testing.T) {
	const max = 1024
	body := func(n int) string { return `"` + strings.Repeat("a", n-2) + `"` }
	tests := []struct {
		name    string
		handler http.HandlerFunc
		accept  []string
		wantErr error
		result  string
	}{
		{"exactly the cap", jsonHandler(body(max)), []string{jsonType}, nil, resultOK},
		{"one byte over, with Content-Length", jsonHandler(body(max + 1)), []string{jsonType}, ErrTooLarge, resultTooLarge},
		{"announced larger", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", jsonType)
			w.Header().Set("Content-Length", "1000000")
		}, []string{jsonType}, ErrTooLarge, resultTooLarge},
		{"one byte over, chunked", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", jsonType)
			b := body(max + 1)
			_, _ = w.Write([]byte(b[:10]))
			w.(http.Flusher).Flush()
			_, _ = w.Write([]byte(b[10:]))
		}, []string{jsonType}, ErrTooLarge, resultTooLarge},
		{"gzip bomb", func(w http.ResponseWriter, r *http.Request) {
			if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
				http.Error(w, "no gzip", http.StatusBadRequest)
				return
			}
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			_, _ = zw.Write(make([]byte, 1<<20))
			_ = zw.Close()
			w.Header().Set("Content-Type", jsonType)
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(buf.Bytes())
		}, []string{jsonType}, ErrTooLarge, resultTooLarge},
		{"charset parameter", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "Application/JSON; charset=utf-8")
			_, _ = w.Write([]byte(`{}`))
		}, []string{jsonType}, nil, resultOK},
		{"upper-case accept", jsonHandler(`{}`), []string{"APPLICATION/JSON"}, nil, resultOK},
		{"other media type", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte(`<html>`))
		}, []string{jsonType}, ErrBadResponse, resultBadResponse},
		{"no media type", func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Content-Type"] = nil
			_, _ = w.Write([]byte(`{}`))
		}, []string{jsonType}, ErrBadResponse, resultBadResponse},
		{"any media type when none asked", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write([]byte(`{}`))
		}, nil, nil, resultOK},
		{"404", http.NotFound, []string{jsonType}, ErrBadResponse, resultBadResponse},
		{"204", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }, nil, ErrBadResponse, resultBadResponse},
		{"unsolicited 304", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotModified) }, nil, ErrBadResponse, resultBadResponse},
		{"500", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) }, nil, ErrUnavailable, resultError},
		{"503", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }, nil, ErrUnavailable, resultError},
		{"429", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTooManyRequests) }, nil, ErrUnavailable, resultError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			f := newFetcher(t, Options{AllowLoopback: true, MaxBytes: max})
			doc, err := f.Get(t.Context(), srv.URL, tc.accept...)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Get = %v, want %v", err, tc.wantErr)
			}
			if err == nil && (len(doc.Body) == 0 || len(doc.Body) > max) {
				t.Fatalf("Get returned %d bytes", len(doc.Body))
			}
			if got := f.fetches(t, tc.result); got != 1 {
				t.Fatalf("fetches{result=%s} = %v, want 1", tc.result, got)
			}
		})
	}
}

// TestUnreachable: a connection refused is ErrUnavailable, not a refusal.
func TestUnreachable(t *testing.T) {
	srv := httptest.NewServer(jsonHandler(`{}`))
	srv.Close()
	f := newFetcher(t, Options{AllowLoopback: true})
	if _, err := f.Get(t.Context(), srv.URL, jsonType); !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrRefused) {
		t.Fatalf("Get = %v, want ErrUnavailable", err)
	}
}

// TestCallerGivesUp: a caller whose context ends gets ErrUnavailable
// wrapping its context's error.
func TestCallerGivesUp(t *testing.T) {
	srv := httptest.NewServer(jsonHandler(`{}`))
	defer srv.Close()
	f := newFetcher(t, Options{AllowLoopback: true})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := f.Get(ctx, srv.URL, jsonType)
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Get = %v, want ErrUnavailable and context.Canceled", err)
	}
}

func certPool(t *testing.T, srv *httptest.Server) *x509.CertPool {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(path, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	pool, err := LoadCAs(path)
	if err != nil {
		t.Fatalf("LoadCAs: %v", err)
	}
	return pool
}

func TestTLS(t *testing.T) {
	srv := httptest.NewTLSServer(jsonHandler(`{"tls":true}`))
	defer srv.Close()

	t.Run("trusted through the CA file", func(t *testing.T) {
		f := newFetcher(t, Options{AllowLoopback: true, RootCAs: certPool(t, srv)})
		doc, err := f.Get(t.Context(), srv.URL, jsonType)
		if err != nil || string(doc.Body) != `{"tls":true}` {
			t.Fatalf("Get = %v, %v", doc, err)
		}
	})
	t.Run("untrusted without it", func(t *testing.T) {
		f := newFetcher(t, Options{AllowLoopback: true})
		_, err := f.Get(t.Context(), srv.URL, jsonType)
		if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("Get = %v, want ErrUnavailable for the certificate", err)
		}
	})
	t.Run("redirect from https to plain http on loopback", func(t *testing.T) {
		plain := httptest.NewServer(jsonHandler(`{"plain":true}`))
		defer plain.Close()
		redir := httptest.NewTLSServer(http.RedirectHandler(plain.URL, http.StatusFound))
		defer redir.Close()
		f := newFetcher(t, Options{AllowLoopback: true, RootCAs: certPool(t, redir)})
		if doc, err := f.Get(t.Context(), redir.URL, jsonType); err != nil || string(doc.Body) != `{"plain":true}` {
			t.Fatalf("Get = %v, %v", doc, err)
		}
	})
}

func TestLoadCAs(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.pem")
	if err := os.WriteFile(empty, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{empty, filepath.Join(dir, "missing.pem")} {
		if _, err := LoadCAs(path); err == nil {
			t.Errorf("LoadCAs(%s) accepted it", path)
		}
	}
}

func TestOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr bool
	}{
		{"zero", Options{}, false},
		{"floor above ceiling", Options{MinTTL: 2 * DefaultMaxTTL}, true},
		{"negative timeout", Options{Timeout: -1}, true},
		{"negative size", Options{MaxBytes: -1}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := New(tc.opts)
			if (err != nil) != tc.wantErr {
				t.Fatalf("New = %v, want error %v", err, tc.wantErr)
			}
			if f != nil {
				f.Close()
			}
		})
	}
	reg := prometheus.NewRegistry()
	if _, err := New(Options{Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{Registerer: reg}); err == nil {
		t.Fatal("a second fetcher registered the same metrics")
	}
}
