package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/authd/authd/internal/httpapi"
	"github.com/authd/authd/internal/oauth"
)

// benchFormats are the access-token formats: JWT, stored opaque and sealed
// opaque (AUTHD_OPAQUE_TOKENS, whose default is sealed).
var benchFormats = []struct {
	name, format string
	sealKey      []byte
}{
	{"jwt", oauth.FormatJWT, nil},
	{"opaque", oauth.FormatOpaque, nil},
	{"sealed", oauth.FormatOpaque, make([]byte, 32)},
}

// serveParallel sends the request newReq makes through the handler from
// parallel goroutines until b.N, failing on any answer ok refuses.
func serveParallel(b *testing.B, h *harness, newReq func() *http.Request, ok func(*httptest.ResponseRecorder) bool) {
	b.Helper()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w := httptest.NewRecorder()
			h.srv.ServeHTTP(w, newReq())
			if !ok(w) {
				b.Fatalf("%d %s", w.Code, w.Body)
			}
		}
	})
}

// post is a POST of body to path with the client's Basic credentials.
func post(path, contentType string, body []byte, id, secret string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	r.SetBasicAuth(id, secret)
	return r
}

func status200(w *httptest.ResponseRecorder) bool { return w.Code == 200 }

// Benchmarks through the real handler and the embedded store:
//
//	go test ./internal/httpapi -run '^$' -bench . -benchmem
func BenchmarkToken(b *testing.B) {
	for _, tc := range benchFormats {
		b.Run(tc.name, func(b *testing.B) {
			h := newHarness(b, func(c *harnessConfig) { c.sealKey = tc.sealKey })
			h.addClient("svc", "svc-secret", func(c *oauth.Client) { c.AccessTokenFormat = tc.format })
			body := []byte("grant_type=client_credentials&scope=read")
			serveParallel(b, h, func() *http.Request {
				return post(httpapi.PathToken, "application/x-www-form-urlencoded", body, "svc", "svc-secret")
			}, status200)
		})
	}
}

// BenchmarkTokenAccessLog is BenchmarkToken/jwt with the access log on,
// written as JSON to io.Discard (the handler's cost, not the terminal's);
// the "cors" case adds an allowed Origin, which authenticates twice.
func BenchmarkTokenAccessLog(b *testing.B) {
	for _, tc := range []struct {
		name   string
		log    bool
		origin string
	}{{"off", false, ""}, {"on", true, ""}, {"on/cors", true, "https://console.example"}} {
		b.Run(tc.name, func(b *testing.B) {
			h := newHarness(b, func(c *harnessConfig) { c.api.AccessLog = tc.log; c.logTo = io.Discard })
			h.addClient("svc", "svc-secret", func(c *oauth.Client) { c.AllowedCORSOrigins = []string{"https://console.example"} })
			body := []byte("grant_type=client_credentials&scope=read")
			serveParallel(b, h, func() *http.Request {
				r := post(httpapi.PathToken, "application/x-www-form-urlencoded", body, "svc", "svc-secret")
				if tc.origin != "" {
					r.Header.Set("Origin", tc.origin)
				}
				return r
			}, status200)
		})
	}
}

func BenchmarkIntrospect(b *testing.B) {
	for _, tc := range benchFormats {
		b.Run(tc.name, func(b *testing.B) {
			h := newHarness(b, func(c *harnessConfig) { c.sealKey = tc.sealKey })
			h.addClient("svc", "svc-secret", func(c *oauth.Client) { c.AccessTokenFormat = tc.format })
			body := []byte(url.Values{"token": {h.token("svc", "svc-secret", nil)}}.Encode())
			serveParallel(b, h, func() *http.Request {
				return post(httpapi.PathIntrospect, "application/x-www-form-urlencoded", body, "svc", "svc-secret")
			},
				func(w *httptest.ResponseRecorder) bool {
					return w.Code == 200 && strings.Contains(w.Body.String(), `"active":true`)
				})
		})
	}
}

// BenchmarkIntrospectBatch is batch introspection of 100 tokens of one
// client, per format.
func BenchmarkIntrospectBatch(b *testing.B) {
	for _, tc := range benchFormats {
		b.Run(tc.name, func(b *testing.B) {
			h := newHarness(b, func(c *harnessConfig) { c.sealKey = tc.sealKey })
			h.addClient("svc", "svc-secret", func(c *oauth.Client) { c.AccessTokenFormat = tc.format })
			toks := make([]string, 100)
			for i := range toks {
				toks[i] = h.token("svc", "svc-secret", nil)
			}
			body, _ := json.Marshal(map[string][]string{"tokens": toks})
			serveParallel(b, h, func() *http.Request {
				return post(httpapi.PathIntrospectBatch, "application/json", body, "svc", "svc-secret")
			},
				func(w *httptest.ResponseRecorder) bool {
					return w.Code == 200 && strings.Count(w.Body.String(), `"active":true`) == 100
				})
		})
	}
}

// FuzzIntrospectToken feeds arbitrary strings to introspection: it must never
// fail, never panic, and never call a token it did not issue active.
func FuzzIntrospectToken(f *testing.F) {
	h := newHarness(f)
	h.addClient("svc", "svc-secret", nil)
	good := h.token("svc", "svc-secret", nil)
	parts := strings.Split(good, ".")
	for _, s := range []string{good, "", "a.b.c", "..", parts[0] + "." + parts[1] + ".", parts[0] + ".e30." + parts[2],
		"eyJhbGciOiJub25lIn0.e30.", strings.Repeat("A", 43), good + "x"} {
		f.Add(s)
	}
	fuzzIntrospect(f, h, good)
}

// fuzzIntrospect runs introspection on what the fuzzer makes: never an
// error, never a panic, and only good is active.
func fuzzIntrospect(f *testing.F, h *harness, good string) {
	f.Fuzz(func(t *testing.T, tok string) {
		info, err := h.svc.Introspect(t.Context(), tok)
		if err != nil {
			t.Fatalf("error for %q: %v", tok, err)
		}
		if info.Active && tok != good {
			t.Fatalf("forged token %q is active", tok)
		}
	})
}

// BenchmarkTokenExchange is the token-exchange path (RFC 8693) next to
// client_credentials in one run: delegation with authd's own access tokens
// as subject and actor (two cached introspections, one signature), and a
// trusted issuer's JWT as subject (a signature check and a user lookup).
//
//	go test ./internal/httpapi -run '^$' -bench TokenExchange -benchmem
func BenchmarkTokenExchange(b *testing.B) {
	h := newExchangeHarness(b)
	alice := h.userToken("read")["access_token"].(string)
	actor := h.token("svc-a", "a-secret", url.Values{"scope": {"read"}})
	now := h.clock.Now().Unix()
	ext := h.idp.sign(map[string]any{"sub": "alice", "aud": issuer, "exp": now + 3600, "scope": "read"})
	for _, tc := range []struct {
		name string
		form url.Values
	}{
		{"client_credentials", url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}},
		{"token_exchange/access_token", exchangeForm(alice, atType, url.Values{"actor_token": {actor}, "actor_token_type": {atType}})},
		{"token_exchange/trusted_jwt", exchangeForm(ext, jwtType, url.Values{"actor_token": {actor}, "actor_token_type": {atType}})},
	} {
		b.Run(tc.name, func(b *testing.B) {
			body := tc.form.Encode()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r := httptest.NewRequest(http.MethodPost, httpapi.PathToken, strings.NewReader(body))
					r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					r.SetBasicAuth("svc-a", "a-secret")
					w := httptest.NewRecorder()
					h.srv.ServeHTTP(w, r)
					if w.Code != 200 {
						b.Fatalf("%d %s", w.Code, w.Body)
					}
				}
			})
		})
	}
}
