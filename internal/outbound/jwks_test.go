package outbound

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/internal/testenv/clocktest"
	"github.com/authd/authd/internal/testenv/metrictest"
)

// testKey is a key pair with its public and private JWK forms.
type testKey struct {
	kid          string
	pub, private string // JWK JSON
}

func newEd25519(t testing.TB, kid string) testKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return jwkPair(t, kid, pub, priv)
}

func newEC(t testing.TB, kid string) testKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return jwkPair(t, kid, &priv.PublicKey, priv)
}

func jwkPair(t testing.TB, kid string, pub, priv any) testKey {
	t.Helper()
	enc := func(k any) string {
		b, err := json.Marshal(jose.JSONWebKey{Key: k, KeyID: kid, Use: "sig"})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	return testKey{kid: kid, pub: enc(pub), private: enc(priv)}
}

func jwkSet(keys ...string) string { return `{"keys":[` + strings.Join(keys, ",") + `]}` }

func TestParseKeySet(t *testing.T) {
	ed, ec := newEd25519(t, "ed"), newEC(t, "ec")
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rs := jwkPair(t, "rs", &rsaKey.PublicKey, rsaKey)
	tests := []struct {
		name     string
		body     string
		wantErr  error
		wantKids []string
	}{
		{"three key types", jwkSet(ed.pub, ec.pub, rs.pub), nil, []string{"ed", "ec", "rs"}},
		{"empty set", `{"keys":[]}`, nil, nil},
		// RFC 7517 §5: keys that cannot be used are ignored, not fatal.
		{"unknown kty skipped", jwkSet(`{"kty":"PQC","kid":"x"}`, ed.pub), nil, []string{"ed"}},
		{"missing members skipped", jwkSet(`{"kty":"EC","crv":"P-256","kid":"x"}`, ed.pub), nil, []string{"ed"}},
		{"no kty skipped", jwkSet(`{"kid":"x"}`, ed.pub), nil, []string{"ed"}},
		{"not an object skipped", jwkSet(`"a string"`, `42`, `null`, ed.pub), nil, []string{"ed"}},
		{"mismatched x5c skipped", jwkSet(`{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","x5c":["MIIB"]}`, ed.pub), nil, []string{"ed"}},
		{"duplicate kids kept", jwkSet(ed.pub, strings.Replace(ec.pub, `"ec"`, `"ed"`, 1)), nil, []string{"ed", "ed"}},
		// Private or symmetric material anywhere refuses the set.
		{"private EC key", jwkSet(ed.pub, ec.private), ErrBadResponse, nil},
		{"private Ed25519 key", jwkSet(ed.private), ErrBadResponse, nil},
		{"private RSA key", jwkSet(rs.private), ErrBadResponse, nil},
		{"RSA prime only", jwkSet(strings.Replace(rs.pub, `"kty"`, `"p":"AQAB","kty"`, 1)), ErrBadResponse, nil},
		{"symmetric key", jwkSet(`{"kty":"oct","k":"c2VjcmV0","kid":"hs"}`), ErrBadResponse, nil},
		{"malformed private member", jwkSet(`{"kty":"EC","crv":"P-256","d":42}`), ErrBadResponse, nil},
		{"not JSON", `<html>`, ErrBadResponse, nil},
		{"no keys member", `{"kid":"x"}`, ErrBadResponse, nil},
		{"keys not an array", `{"keys":{}}`, ErrBadResponse, nil},
		{"a single JWK, not a set", ed.pub, ErrBadResponse, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set, err := parseKeySet(&Document{Body: []byte(tc.body)})
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("parseKeySet = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			var kids []string
			for _, k := range set.all {
				kids = append(kids, k.KeyID)
				if !k.IsPublic() {
					t.Fatalf("key %s is not public", k.KeyID)
				}
			}
			if fmt.Sprint(kids) != fmt.Sprint(tc.wantKids) {
				t.Fatalf("kids = %v, want %v", kids, tc.wantKids)
			}
		})
	}
}

// jwksServer serves a JWK Set the test can change, with a max-age and an
// ETag per version.
type jwksServer struct {
	*httptest.Server
	hits counter
	mu   sync.Mutex
	body string
}

func newJWKSServer(t *testing.T, body string) *jwksServer {
	s := &jwksServer{body: body}
	s.Server = httptest.NewServer(s.hits.wrap(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		body := s.body
		s.mu.Unlock()
		etag := fmt.Sprintf(`"%x"`, len(body)) // good enough: every version has another length
		w.Header().Set("ETag", etag)
		w.Header().Set("Cache-Control", "max-age=3600")
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.body = body
}

func TestKeys(t *testing.T) {
	a, b := newEd25519(t, "a"), newEC(t, "b")
	srv := newJWKSServer(t, jwkSet(a.pub, b.pub))
	f := newFetcher(t, Options{AllowLoopback: true})
	jwks := NewJWKS(f.Fetcher, JWKSOptions{})

	keys, err := jwks.Keys(t.Context(), srv.URL, "b")
	if err != nil || len(keys) != 1 || keys[0].KeyID != "b" || !keys[0].IsPublic() {
		t.Fatalf("Keys(b) = %v, %v", keys, err)
	}
	all, err := jwks.Keys(t.Context(), srv.URL, "")
	if err != nil || len(all) != 2 {
		t.Fatalf("Keys(\"\") = %d keys, %v", len(all), err)
	}
	// A caller's append cannot write into the shared set.
	_ = append(all, jose.JSONWebKey{KeyID: "intruder"})
	if again, _ := jwks.Keys(t.Context(), srv.URL, ""); len(again) != 2 || again[1].KeyID != "b" {
		t.Fatalf("the set changed under a caller's append: %v", again)
	}
	if _, err := jwks.Keys(t.Context(), srv.URL, "zzz"); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("Keys(zzz) = %v, want ErrKeyNotFound", err)
	}
	if _, err := jwks.Keys(t.Context(), "http://10.0.0.1/jwks", "a"); !errors.Is(err, ErrRefused) {
		t.Fatalf("Keys of a private address = %v, want ErrRefused", err)
	}
	if n := srv.hits.get(); n != 2 { // the first fetch and the unknown kid's refresh
		t.Fatalf("the server saw %d requests, want 2", n)
	}
}

// TestUnknownKidBound: an unknown kid refreshes a fresh set at most once
// per RefreshInterval, so random kids cannot make authd hammer the URI,
// while a real rotation is picked up at once.
func TestUnknownKidBound(t *testing.T) {
	a, b, c := newEd25519(t, "a"), newEd25519(t, "b"), newEd25519(t, "c")
	srv := newJWKSServer(t, jwkSet(a.pub))
	clk := clocktest.New(start)
	f := newFetcher(t, Options{AllowLoopback: true, Now: clk.Now})
	jwks := NewJWKS(f.Fetcher, JWKSOptions{})
	keys := func(kid string, wantErr error, wantHits int64) {
		t.Helper()
		got, err := jwks.Keys(t.Context(), srv.URL, kid)
		if !errors.Is(err, wantErr) || (err == nil && got[0].KeyID != kid) {
			t.Fatalf("Keys(%s) = %v, %v; want %v", kid, got, err, wantErr)
		}
		if n := srv.hits.get(); n != wantHits {
			t.Fatalf("after Keys(%s) the server saw %d requests, want %d", kid, n, wantHits)
		}
	}
	keys("a", nil, 1)
	srv.set(jwkSet(a.pub, b.pub)) // the issuer rotates in b
	keys("b", nil, 2)             // the set is fresh, but b is new: refreshed at once
	for i := range 100 {          // an attacker's random kids
		keys(fmt.Sprintf("random-%d", i), ErrKeyNotFound, 2)
	}
	keys("a", nil, 2)
	clk.Advance(DefaultRefreshInterval - time.Second)
	keys("c", ErrKeyNotFound, 2)
	clk.Advance(time.Second)
	keys("c", ErrKeyNotFound, 3) // one refresh per interval (a 304 here)
	keys("c", ErrKeyNotFound, 3)
	srv.set(jwkSet(a.pub, b.pub, c.pub))
	clk.Advance(DefaultRefreshInterval)
	keys("c", nil, 4)

	if got := metrictest.Value(t, f.reg, "authd_outbound_jwks_unknown_kid_total", "result", "refreshed"); got != 3 {
		t.Fatalf("refreshed = %v, want 3", got)
	}
	if got := metrictest.Value(t, f.reg, "authd_outbound_jwks_unknown_kid_total", "result", "throttled"); got != 102 {
		t.Fatalf("throttled = %v, want 102", got)
	}
	if got := f.fetches(t, resultNotModified); got != 1 {
		t.Fatalf("not_modified = %v, want 1", got)
	}
}

// TestJWKSFollowsHTTPFreshness: an expired set is fetched again, once,
// and a set with no-store is still kept for RefreshInterval.
func TestJWKSFollowsHTTPFreshness(t *testing.T) {
	a, b := newEd25519(t, "a"), newEd25519(t, "b")
	var hits counter
	var body atomic.Value
	body.Store(jwkSet(a.pub))
	srv := httptest.NewServer(hits.wrap(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		jsonHandler(body.Load().(string))(w, r)
	}))
	defer srv.Close()
	clk := clocktest.New(start)
	f := newFetcher(t, Options{AllowLoopback: true, Now: clk.Now})
	jwks := NewJWKS(f.Fetcher, JWKSOptions{RefreshInterval: 10 * time.Second})
	for range 10 {
		if _, err := jwks.Keys(t.Context(), srv.URL, "a"); err != nil {
			t.Fatal(err)
		}
	}
	if n := hits.get(); n != 1 {
		t.Fatalf("a no-store set was fetched %d times within the interval", n)
	}
	body.Store(jwkSet(b.pub))
	clk.Advance(10*time.Second - time.Nanosecond)
	if _, err := jwks.Keys(t.Context(), srv.URL, "a"); err != nil || hits.get() != 1 {
		t.Fatalf("just before the interval: %v, %d requests", err, hits.get())
	}
	clk.Advance(time.Nanosecond)
	if _, err := jwks.Keys(t.Context(), srv.URL, "a"); !errors.Is(err, ErrKeyNotFound) || hits.get() != 2 {
		t.Fatalf("after the interval: %v, %d requests; want the new set, without a", err, hits.get())
	}
	if _, err := jwks.Keys(t.Context(), srv.URL, "b"); err != nil || hits.get() != 2 {
		t.Fatalf("b: %v, %d requests", err, hits.get())
	}
}

// TestJWKSBadSetRemembered: a set that does not parse is not fetched or
// parsed again until it could have changed.
func TestJWKSBadSetRemembered(t *testing.T) {
	ec := newEC(t, "ec")
	srv := newJWKSServer(t, jwkSet(ec.private))
	clk := clocktest.New(start)
	f := newFetcher(t, Options{AllowLoopback: true, Now: clk.Now})
	jwks := NewJWKS(f.Fetcher, JWKSOptions{})
	for range 5 {
		if _, err := jwks.Keys(t.Context(), srv.URL, "ec"); !errors.Is(err, ErrBadResponse) {
			t.Fatalf("Keys of a set with a private key = %v, want ErrBadResponse", err)
		}
	}
	if n := srv.hits.get(); n != 1 {
		t.Fatalf("the bad set was fetched %d times", n)
	}
	srv.set(jwkSet(ec.pub))
	clk.Advance(time.Hour) // the set's max-age
	if keys, err := jwks.Keys(t.Context(), srv.URL, "ec"); err != nil || !keys[0].IsPublic() {
		t.Fatalf("after the fix: %v, %v", keys, err)
	}
}

// TestJWKSBound: the key sets held are bounded.
func TestJWKSBound(t *testing.T) {
	srv := newJWKSServer(t, jwkSet(newEd25519(t, "a").pub))
	f := newFetcher(t, Options{AllowLoopback: true})
	jwks := NewJWKS(f.Fetcher, JWKSOptions{MaxURIs: 3})
	for i := range 10 {
		if _, err := jwks.Keys(t.Context(), fmt.Sprintf("%s/%d", srv.URL, i), "a"); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(jwks.sets); n > 3 {
		t.Fatalf("%d key sets held, bound 3", n)
	}
}

// TestUnknownKidConcurrent: concurrent callers with an unknown kid share
// one refresh and all see its result.
func TestUnknownKidConcurrent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := newEd25519(t, "a"), newEd25519(t, "b")
		var hits atomic.Int64
		var body atomic.Value
		body.Store(jwkSet(a.pub))
		var gate atomic.Pointer[chan struct{}]
		p, stop := servePipe(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			if g := gate.Load(); g != nil {
				<-*g
			}
			w.Header().Set("Cache-Control", "max-age=3600")
			jsonHandler(body.Load().(string))(w, r)
		}))
		defer stop()
		f := newFetcher(t, Options{AllowLoopback: true, dial: p.dial})
		defer f.Close()
		jwks := NewJWKS(f.Fetcher, JWKSOptions{})
		if _, err := jwks.Keys(t.Context(), "http://127.0.0.1/jwks", "a"); err != nil {
			t.Fatal(err)
		}

		release := make(chan struct{})
		gate.Store(&release)
		releaseAll := sync.OnceFunc(func() { close(release) })
		defer releaseAll()
		body.Store(jwkSet(a.pub, b.pub))
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				keys, err := jwks.Keys(context.Background(), "http://127.0.0.1/jwks", "b")
				if err == nil && keys[0].KeyID != "b" {
					err = fmt.Errorf("got %s", keys[0].KeyID)
				}
				errs[i] = err
			})
		}
		synctest.Wait()
		if got := hits.Load(); got != 2 {
			t.Fatalf("%d callers with an unknown kid made %d refreshes, want 1", n, got-1)
		}
		releaseAll()
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("caller %d: %v", i, err)
			}
		}
	})
}
