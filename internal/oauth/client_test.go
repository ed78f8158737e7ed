package oauth

import (
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestHasRedirectURI(t *testing.T) {
	c := &Client{RedirectURIs: []string{
		"https://app.example/cb",
		"http://127.0.0.1/native",
		"http://[::1]:8400/v6?x=1",
		"http://localhost:3000/cb",
		"com.example.app:/oauth",
	}}
	tests := []struct {
		name string
		uri  string
		want bool
	}{
		{"exact https", "https://app.example/cb", true},
		{"https other port", "https://app.example:8443/cb", false},
		{"https other path", "https://app.example/cb/", false},
		{"private-use scheme exact", "com.example.app:/oauth", true},

		// RFC 8252 §7.3: any port on a loopback IP literal.
		{"v4 registered without port, asked with one", "http://127.0.0.1:51004/native", true},
		{"v4 exact", "http://127.0.0.1/native", true},
		{"v4 highest port", "http://127.0.0.1:65535/native", true},
		{"v6 registered with a port, asked with another", "http://[::1]:61023/v6?x=1", true},
		{"v6 asked without port", "http://[::1]/v6?x=1", true},
		{"v4 path differs", "http://127.0.0.1:51004/native/", false},
		{"v4 path case differs", "http://127.0.0.1:51004/Native", false},
		{"v4 query added", "http://127.0.0.1:51004/native?x=1", false},
		{"v6 query differs", "http://[::1]:61023/v6?x=2", false},
		{"v6 query dropped", "http://[::1]:61023/v6", false},
		{"v4 vs v6 registration", "http://[::1]:5000/native", false},
		{"https on loopback", "https://127.0.0.1:51004/native", false},
		{"fragment", "http://127.0.0.1:51004/native#x", false},
		{"port 0", "http://127.0.0.1:0/native", false},
		{"port too big", "http://127.0.0.1:65536/native", false},
		{"port with leading zero", "http://127.0.0.1:080/native", false},
		{"empty port", "http://127.0.0.1:/native", false},
		{"userinfo trick", "http://127.0.0.1:80@evil.example/native", false},
		{"longer host", "http://127.0.0.10/native", false},
		{"host suffix", "http://127.0.0.1.evil.example/native", false},
		{"backslash", "http://127.0.0.1:5000\\@evil.example/native", false},
		{"other loopback address", "http://127.0.0.2:5000/native", false},
		{"upper-case scheme", "HTTP://127.0.0.1:5000/native", false},
		// RFC 8252 §8.3: localhost is matched exactly.
		{"localhost exact", "http://localhost:3000/cb", true},
		{"localhost other port", "http://localhost:3001/cb", false},
		{"empty", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.HasRedirectURI(tc.uri); got != tc.want {
				t.Fatalf("HasRedirectURI(%q) = %v, want %v", tc.uri, got, tc.want)
			}
		})
	}
}

// TestPostLogoutRedirectURIExact: the RFC 8252 §7.3 port leeway is for
// authorization responses only.
func TestPostLogoutRedirectURIExact(t *testing.T) {
	c := &Client{PostLogoutRedirectURIs: []string{"http://127.0.0.1:3000/bye"}}
	if !c.HasPostLogoutRedirectURI("http://127.0.0.1:3000/bye") {
		t.Fatal("exact URI refused")
	}
	if c.HasPostLogoutRedirectURI("http://127.0.0.1:3001/bye") {
		t.Fatal("post-logout URI matched on another port")
	}
}

func TestWebOrigin(t *testing.T) {
	tests := []struct {
		in     string
		want   string
		wantOK bool
	}{
		{"https://app.example/cb?x=1#f", "https://app.example", true},
		{"https://App.Example:443/", "https://app.example", true},
		{"http://app.example:80", "http://app.example", true},
		{"http://app.example:8080", "http://app.example:8080", true},
		{"https://app.example:0443", "https://app.example", true},
		{"http://127.0.0.1:3000/cb", "http://127.0.0.1:3000", true},
		{"http://[::1]:3000/cb", "http://[::1]:3000", true},
		{"http://[0:0:0:0:0:0:0:1]/", "http://[::1]", true},
		{"https://xn--bcher-kva.example", "https://xn--bcher-kva.example", true},
		{"https://bücher.example", "", false},
		{"https://user@app.example", "", false},
		{"https://app.example:99999", "", false},
		{"https://app.example:0", "", false},
		{"https://app.example:", "", false},
		{"https:///path", "", false},
		{"ftp://app.example", "", false},
		{"com.example.app:/cb", "", false},
		{"https://a%2eexample", "", false},
		{"http://[fe80::1%25eth0]/", "", false},
		{"null", "", false},
		{"", "", false},
	}
	for _, tc := range tests {
		got, ok := WebOrigin(tc.in)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("WebOrigin(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.wantOK)
		}
	}
}

func TestIsOrigin(t *testing.T) {
	for s, want := range map[string]bool{
		"https://app.example":     true,
		"http://localhost:3000":   true,
		"http://[::1]:8080":       true,
		"https://app.example/":    false,
		"https://app.example:443": false,
		"https://APP.example":     false,
		"https://app.example?x":   false,
		"https://app.example#x":   false,
		"https://u:p@app.example": false,
		"null":                    false,
		"*":                       false,
		"":                        false,
		"https://" + strings.Repeat("a", MaxOriginLength): false,
	} {
		if got := IsOrigin(s); got != want {
			t.Errorf("IsOrigin(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestCORSOrigins(t *testing.T) {
	spa := &Client{
		TokenEndpointAuthMethod: AuthMethodNone,
		RedirectURIs:            []string{"https://spa.example/cb", "https://spa.example/other", "http://127.0.0.1:5173/cb", "com.example.app:/cb"},
		AllowedCORSOrigins:      []string{"https://admin.example"},
	}
	want := []string{"http://127.0.0.1:5173", "https://admin.example", "https://spa.example"}
	if got := spa.CORSOrigins(); !slices.Equal(got, want) {
		t.Fatalf("public CORSOrigins = %q, want %q", got, want)
	}
	web := &Client{
		TokenEndpointAuthMethod: AuthMethodBasic,
		RedirectURIs:            []string{"https://web.example/cb"},
		AllowedCORSOrigins:      []string{"https://admin.example"},
	}
	if got := web.CORSOrigins(); !slices.Equal(got, []string{"https://admin.example"}) {
		t.Fatalf("confidential CORSOrigins = %q: a server-side client's redirect URIs say nothing about scripts", got)
	}
	for _, c := range []*Client{spa, web} {
		all := c.CORSOrigins()
		for _, o := range append(all, "https://web.example", "https://evil.example", "null", "", "https://spa.example/") {
			if got := c.AllowsCORSOrigin(o); got != slices.Contains(all, o) {
				t.Errorf("%s: AllowsCORSOrigin(%q) = %v, CORSOrigins = %q", c.TokenEndpointAuthMethod, o, got, all)
			}
		}
	}
}

// FuzzHasRedirectURI: whatever the input, a URI that is not registered
// verbatim only ever matches a registered loopback URI with the same host,
// path and query, so the flexible port can never send a code elsewhere.
func FuzzHasRedirectURI(f *testing.F) {
	for _, s := range [][2]string{
		{"http://127.0.0.1/cb", "http://127.0.0.1:5000/cb"},
		{"http://[::1]:80/cb?x=1", "http://[::1]:1/cb?x=1"},
		{"http://127.0.0.1/cb", "http://127.0.0.1:80@evil.example/cb"},
		{"http://127.0.0.1/cb", "http://127.0.0.1.evil.example/cb"},
		{"http://localhost/cb", "http://localhost:5000/cb"},
		{"https://app.example/cb", "https://app.example:444/cb"},
		{"http://127.0.0.1", "http://127.0.0.1:65535"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, registered, uri string) {
		c := &Client{RedirectURIs: []string{registered}}
		if !c.HasRedirectURI(uri) || uri == registered {
			return
		}
		reg, err := url.Parse(registered)
		if err != nil {
			return // the admin API registers only URIs that parse
		}
		got, err := url.Parse(uri)
		if err != nil {
			t.Fatalf("%q matched %q but does not parse: %v", uri, registered, err)
		}
		host := got.Hostname()
		if got.Scheme != "http" || (host != "127.0.0.1" && host != "::1") || host != reg.Hostname() ||
			got.User != nil || got.Fragment != "" || got.EscapedPath() != reg.EscapedPath() || got.RawQuery != reg.RawQuery {
			t.Fatalf("%q matched registered %q", uri, registered)
		}
	})
}

// FuzzWebOrigin: an origin WebOrigin returns is canonical (IsOrigin holds and
// re-deriving it changes nothing), has no path, and belongs to the input's host.
func FuzzWebOrigin(f *testing.F) {
	for _, s := range []string{"https://app.example/cb", "http://[::1]:80/x", "https://A.example:443", "http://a%2eb/", "null", "https://u@h", "http://h:/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if IsOrigin(s) {
			if o, _ := WebOrigin(s); o != s {
				t.Fatalf("IsOrigin(%q) but WebOrigin = %q", s, o)
			}
		}
		o, ok := WebOrigin(s)
		if !ok {
			return
		}
		if len(o) <= MaxOriginLength && !IsOrigin(o) {
			t.Fatalf("WebOrigin(%q) = %q, which is not canonical", s, o)
		}
		u, err := url.Parse(o)
		if err != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			t.Fatalf("WebOrigin(%q) = %q, not a bare origin (%v)", s, o, err)
		}
		in, _ := url.Parse(s)
		if !strings.EqualFold(strings.Trim(in.Hostname(), "[]"), strings.Trim(u.Hostname(), "[]")) && !strings.Contains(in.Hostname(), ":") {
			t.Fatalf("WebOrigin(%q) = %q names another host", s, o)
		}
	})
}
