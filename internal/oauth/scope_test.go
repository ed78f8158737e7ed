package oauth

import (
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestParseScope(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"a", []string{"a"}},
		{"a b  a c", []string{"a", "b", "c"}},
		{"  spaced\tout ", []string{"spaced", "out"}},
		{"a b c d e f g h i j k l m n o p q r a b s", []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s"}},
	}
	for _, tc := range tests {
		if got := ParseScope(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("ParseScope(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestValidScopeToken(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"read", true},
		{"api:write", true},
		{"https://api.example/x", true},
		{"", false},
		{`quo"te`, false},
		{`back\slash`, false},
		{"sp ace", false},
		{"ünï", false},
		{"\x7f", false},
	}
	for _, tc := range tests {
		if got := ValidScopeToken(tc.in); got != tc.want {
			t.Errorf("ValidScopeToken(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestSubsetOf(t *testing.T) {
	if !SubsetOf([]string{"a"}, []string{"a", "b"}) || !SubsetOf(nil, nil) {
		t.Error("subset not recognised")
	}
	if SubsetOf([]string{"a", "c"}, []string{"a", "b"}) {
		t.Error("non-subset accepted")
	}
}

func TestErrorStatus(t *testing.T) {
	tests := []struct {
		err        *Error
		code       string
		wantStatus int
	}{
		{InvalidRequest("x"), CodeInvalidRequest, 400},
		{InvalidClient("x"), CodeInvalidClient, 401},
		{InvalidGrant("x"), CodeInvalidGrant, 400},
		{UnauthorizedClient("x"), CodeUnauthorizedClient, 400},
		{UnsupportedGrantType("x"), CodeUnsupportedGrantType, 400},
		{InvalidScope("x"), CodeInvalidScope, 400},
		{ServerError(), CodeServerError, 500},
		{TemporarilyUnavailable("x", 1), CodeTemporarilyUnavailable, 503},
		{TooManyRequests(2), CodeTemporarilyUnavailable, 429},
		{InvalidToken("x"), CodeInvalidToken, 401},
	}
	for _, tc := range tests {
		if tc.err.Code != tc.code || tc.err.Status != tc.wantStatus {
			t.Errorf("%s: got %s/%d, want %s/%d", tc.err, tc.err.Code, tc.err.Status, tc.code, tc.wantStatus)
		}
	}
}

func TestValidClientID(t *testing.T) {
	for id, want := range map[string]bool{
		"app": true, "A-b_c.d~9": true, "": false, "a b": false, "a/b": false, "ü": false,
		strings.Repeat("x", 128): true, strings.Repeat("x", 129): false,
	} {
		if got := ValidClientID(id); got != want {
			t.Errorf("ValidClientID(%q) = %v", id, got)
		}
	}
}

func TestResolveScope(t *testing.T) {
	allowed := []string{"openid", "read", "write"}
	tests := []struct {
		name      string
		requested string
		want      []string
		wantErr   bool
	}{
		{"absent means the default", "", allowed, false},
		{"a subset", "read openid", []string{"read", "openid"}, false},
		{"wider", "read admin", nil, true},
		{"malformed", "read \"x\"", nil, true},
		{"too long", strings.Repeat("a", MaxScopeLength+1), nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ResolveScope(tc.requested, allowed)
			if tc.wantErr {
				if e, ok := As(err); !ok || e.Code != CodeInvalidScope {
					t.Fatalf("err %v, want invalid_scope", err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("= %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	// The default is a copy: changing it changes no client.
	got, _ := ResolveScope("", allowed)
	got[0] = "changed"
	if allowed[0] != "openid" {
		t.Fatal("ResolveScope returned the client's own slice")
	}
}

func TestIsClientIDURL(t *testing.T) {
	for id, want := range map[string]bool{
		"https://app.example.com/client.json":                            true,
		"https://app.example.com:8443/oauth/client":                      true,
		"https://app.example.com/c?v=2":                                  true,
		"https://127.0.0.1:4443/client.json":                             true,
		"https://app.example.com":                                        false, // no path component
		"https://app.example.com/":                                       false,
		"http://app.example.com/client.json":                             false,
		"HTTPS://app.example.com/client.json":                            false, // compared byte for byte: only the canonical form
		"https://app.example.com/a/../client.json":                       false,
		"https://app.example.com/a/./client.json":                        false,
		"https://app.example.com/a/%2e%2e/b":                             false,
		"https://app.example.com/client.json#x":                          false,
		"https://user:pw@app.example.com/client.json":                    false,
		"https://@app.example.com/client.json":                           false,
		"https:///client.json":                                           false,
		"https://app.example.com/a b":                                    false,
		"https://app.example.com/\x00":                                   false,
		"https://app.example.com/ü":                                      false,
		"https://a.example/" + strings.Repeat("x", MaxClientIDURLLength): false,
	} {
		if got := IsClientIDURL(id); got != want {
			t.Errorf("IsClientIDURL(%q) = %v, want %v", id, got, want)
		}
		if got := AcceptableClientID(id); got != want {
			t.Errorf("AcceptableClientID(%q) = %v, want %v", id, got, want)
		}
	}
	if !AcceptableClientID("app") {
		t.Error("an issued client id is acceptable")
	}
}

func FuzzIsClientIDURL(f *testing.F) {
	for _, s := range []string{"https://app.example.com/client.json", "https://a/%2e%2e", "https://u@h/p", "https://h/p?q#f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if !IsClientIDURL(id) {
			return
		}
		// What is admitted is a URL the fetcher can take as it is, and the
		// same string comes back from parsing, so the cache key, the lookup
		// and the document's client_id agree.
		u, err := url.Parse(id)
		if err != nil || u.Scheme != "https" || u.User != nil || u.Fragment != "" || len(id) > MaxClientIDURLLength {
			t.Fatalf("admitted %q: %v %+v", id, err, u)
		}
		for _, seg := range strings.Split(u.Path, "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("admitted a dot segment: %q", id)
			}
		}
	})
}
