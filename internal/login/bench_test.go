package login

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/authd/authd/internal/account"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/password"
)

var benchHidden = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// BenchmarkLoginForm is the whole browser login at the production Argon2id
// parameters (OWASP: m=19 MiB, t=2, p=1): POST /login with a valid CSRF token
// and the right password, to the redirect carrying the code.
//
//	go test ./internal/login -run '^$' -bench LoginForm -benchmem
func BenchmarkLoginForm(b *testing.B) {
	ctx := context.Background()
	db := openStore(b)
	hasher := password.New(password.DefaultParams(), password.Limits{})
	accts := account.New(db, hasher, password.Policy{}, account.Options{Logger: slog.New(slog.DiscardHandler)})
	if _, err := accts.Create(ctx, "alice", testPassword, ""); err != nil {
		b.Fatal(err)
	}
	h, err := New(Deps{Clients: db, Accounts: accts, Sessions: db, Consents: db, Codes: db, IDTokens: newKeys(b, db, nil)}, Options{
		Issuer: "https://auth.example", CSRFKey: []byte("0123456789abcdef0123456789abcdef"), Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	authorize := srv.URL + PathAuthorize + "?" + url.Values{
		"response_type": {"code"}, "client_id": {"first"}, "redirect_uri": {"https://first.example/callback?tenant=a"},
		"scope": {"openid"}, "state": {"s"}, "code_challenge": {oauth.S256Challenge(strings.Repeat("v", 43))},
		"code_challenge_method": {"S256"},
	}.Encode()
	newBrowser := func() (*http.Client, url.Values) {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.Get(authorize)
		if err != nil {
			b.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		form := url.Values{}
		for _, m := range benchHidden.FindAllStringSubmatch(string(page), -1) {
			form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
		}
		form.Set("username", "alice")
		form.Set("password", testPassword)
		return c, form
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c, form := newBrowser()
		body := form.Encode()
		for pb.Next() {
			resp, err := c.Post(srv.URL+PathLogin, "application/x-www-form-urlencoded", strings.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
				b.Fatalf("login: %d", resp.StatusCode)
			}
		}
	})
}

// BenchmarkAuthorize is the authorization endpoint for a signed-in user of a
// first-party client, up to the redirect carrying the code: a plain request
// beside a pushed one (RFC 9126: Push, then the request_uri spent at the
// authorization endpoint), so the cost PAR adds is visible.
//
//	go test ./internal/login -run '^$' -bench Authorize -benchmem
func BenchmarkAuthorize(b *testing.B) {
	ctx := context.Background()
	db := openStore(b)
	hasher := password.New(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, password.Limits{})
	accts := account.New(db, hasher, password.Policy{}, account.Options{Logger: slog.New(slog.DiscardHandler)})
	if _, err := accts.Create(ctx, "alice", testPassword, ""); err != nil {
		b.Fatal(err)
	}
	h, err := New(Deps{Clients: db, Accounts: accts, Sessions: db, Consents: db, Codes: db, IDTokens: newKeys(b, db, nil), Pushed: db},
		Options{Issuer: "https://auth.example", CSRFKey: []byte("0123456789abcdef0123456789abcdef"), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	params := url.Values{
		"response_type": {"code"}, "client_id": {"first"}, "redirect_uri": {"https://first.example/callback?tenant=a"},
		"scope": {"openid"}, "state": {"s"}, "code_challenge": {oauth.S256Challenge(strings.Repeat("v", 43))},
		"code_challenge_method": {"S256"},
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(b *testing.B, u string) {
		resp, err := c.Get(u)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound || !strings.Contains(resp.Header.Get("Location"), "code=") {
			b.Fatalf("authorize: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	// Sign in once: the form's POST leaves the session cookie in the jar.
	resp, err := c.Get(srv.URL + PathAuthorize + "?" + params.Encode())
	if err != nil {
		b.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	form := url.Values{}
	for _, m := range benchHidden.FindAllStringSubmatch(string(page), -1) {
		form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	form.Set("username", "alice")
	form.Set("password", testPassword)
	if resp, err = c.PostForm(srv.URL+PathLogin, form); err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	first, err := db.Client(ctx, "first")
	if err != nil {
		b.Fatal(err)
	}

	b.Run("plain", func(b *testing.B) {
		u := srv.URL + PathAuthorize + "?" + params.Encode()
		b.ReportAllocs()
		for b.Loop() {
			get(b, u)
		}
	})
	b.Run("pushed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			uri, _, err := h.Push(ctx, first, params, "")
			if err != nil {
				b.Fatal(err)
			}
			get(b, srv.URL+PathAuthorize+"?"+url.Values{"client_id": {"first"}, "request_uri": {uri}}.Encode())
		}
	})
}
