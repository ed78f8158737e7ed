package httpapi

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/authd/authd/internal/oauth"
)

func TestParseFormBody(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    map[string]string
		wantErr bool
	}{
		{"empty", "", map[string]string{}, false},
		{"simple", "a=1&b=two", map[string]string{"a": "1", "b": "two"}, false},
		{"encoded", "scope=read+write&x=%2F", map[string]string{"scope": "read write", "x": "/"}, false},
		{"no value is omitted (RFC 6749 3.1)", "flag&a=&b=1", map[string]string{"b": "1"}, false},
		{"empty then set is not a repeat", "a=&a=1", map[string]string{"a": "1"}, false},
		{"stray ampersands", "&&a=1&", map[string]string{"a": "1"}, false},
		{"duplicate", "a=1&a=2", nil, true},
		{"bad escape", "a=%zz", nil, true},
		// RFC 8707 §2: resource may repeat.
		{"resource repeats", "resource=https%3A%2F%2Fa.example%2F&resource=urn%3Ab",
			map[string]string{"resource": "https://a.example/ urn:b"}, false},
		// RFC 8693 §2.1: so may audience.
		{"audience repeats", "audience=https%3A%2F%2Fa.example%2F&audience=urn%3Ab",
			map[string]string{"audience": "https://a.example/ urn:b"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseFormBody(tc.body)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if tc.wantErr {
				if e, ok := oauth.As(err); !ok || e.Code != oauth.CodeInvalidRequest {
					t.Fatalf("err = %v, want invalid_request", err)
				}
				return
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}

func TestClientCredentials(t *testing.T) {
	tests := []struct {
		name       string
		authz      string
		form       form
		wantID     string
		wantSecret string
		wantMethod string
		wantCode   string
		wantBasic  bool
	}{
		{name: "basic", authz: basic("app", "s3cret"), wantID: "app", wantSecret: "s3cret", wantMethod: oauth.AuthMethodBasic},
		{name: "basic form-encoded (RFC 6749 2.3.1)", authz: basic("my%3Aapp", "a%2Bb%3Ac"), wantID: "my:app", wantSecret: "a+b:c", wantMethod: oauth.AuthMethodBasic},
		{name: "basic lower-case scheme", authz: "basic " + base64.StdEncoding.EncodeToString([]byte("a:b")), wantID: "a", wantSecret: "b", wantMethod: oauth.AuthMethodBasic},
		{name: "post", form: form{"client_id": "app", "client_secret": "x"}, wantID: "app", wantSecret: "x", wantMethod: oauth.AuthMethodPost},
		{name: "none", form: form{"client_id": "pub"}, wantID: "pub", wantMethod: oauth.AuthMethodNone},
		{name: "both methods", authz: basic("app", "x"), form: form{"client_secret": "x"}, wantCode: oauth.CodeInvalidRequest},
		{name: "id mismatch", authz: basic("app", "x"), form: form{"client_id": "other"}, wantCode: oauth.CodeInvalidRequest},
		{name: "not base64", authz: "Basic !!!", wantCode: oauth.CodeInvalidClient, wantBasic: true},
		{name: "no colon", authz: "Basic " + base64.StdEncoding.EncodeToString([]byte("nocolon")), wantCode: oauth.CodeInvalidClient, wantBasic: true},
		{name: "bearer instead", authz: "Bearer abc", wantCode: oauth.CodeInvalidClient, wantBasic: true},
		{name: "empty id", authz: basic("", "x"), wantCode: oauth.CodeInvalidClient, wantBasic: true},
		{name: "bad escape", authz: basic("a%zz", "x"), wantCode: oauth.CodeInvalidClient, wantBasic: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/oauth2/token", nil)
			if tc.authz != "" {
				r.Header.Set("Authorization", tc.authz)
			}
			f := tc.form
			if f == nil {
				f = form{}
			}
			cr, err := clientCredentials(r, f)
			if tc.wantCode != "" {
				e, ok := oauth.As(err)
				if !ok || e.Code != tc.wantCode || (e.Status == http.StatusUnauthorized) != tc.wantBasic {
					t.Fatalf("err = %#v, want %s (basic %v)", err, tc.wantCode, tc.wantBasic)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cr.ClientID != tc.wantID || cr.Secret != tc.wantSecret || cr.Method != tc.wantMethod {
				t.Fatalf("got %+v", cr)
			}
		})
	}
}

func FuzzParseFormBody(f *testing.F) {
	for _, s := range []string{"", "a=1&b=2", "grant_type=client_credentials&scope=a+b", "a=%zz", "a=1&a=2", "&&=&"} {
		f.Add(s)
	}
	f.Add("resource=a&resource=b")
	f.Add("resource=a%20b")
	f.Add("audience=a&audience=b&subject_token=x")
	f.Fuzz(func(t *testing.T, body string) {
		got, err := parseFormBody(body)
		if err != nil {
			if _, ok := oauth.As(err); !ok {
				t.Fatalf("non-protocol error %v", err)
			}
			return
		}
		// Each resource value is whole: none had a space to split on.
		if n := strings.Count(body, "&") + 1; len(got.resources()) > n || len(got.audiences()) > n {
			t.Fatalf("%d resources, %d audiences from %d parameters in %q", len(got.resources()), len(got.audiences()), n, body)
		}
		for k := range got {
			if strings.Contains(body, k) == false && k != "" && !strings.Contains(body, "%") && !strings.Contains(body, "+") {
				t.Fatalf("key %q not from body %q", k, body)
			}
		}
	})
}

func FuzzParseBasic(f *testing.F) {
	for _, s := range []string{basic("a", "b"), "Basic ", "basic Og==", "Bearer x", basic("a%3A", "%zz")} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		id, secret, err := parseBasic(h)
		if err == nil && id == "" {
			t.Fatalf("accepted empty id from %q", h)
		}
		_ = secret
	})
}

func TestParseFormBodyResourceWithSpace(t *testing.T) {
	// One value with a space must not pass for two resources.
	for _, body := range []string{"resource=https%3A%2F%2Fa%2F+https%3A%2F%2Fb%2F", "resource=a%0Ab", "resource=a&resource=b%09"} {
		_, err := parseFormBody(body)
		if e, ok := oauth.As(err); !ok || e.Code != oauth.CodeInvalidTarget {
			t.Fatalf("%q: err = %v, want invalid_target", body, err)
		}
	}
}

// FuzzQueryUnescape: the shortcut answers exactly as url.QueryUnescape.
func FuzzQueryUnescape(f *testing.F) {
	for _, s := range []string{"", "abc", "a+b", "a%20b", "%zz", "%", "tok-_.~", "\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := queryUnescape(s)
		want, wantErr := url.QueryUnescape(s)
		if got != want || (err == nil) != (wantErr == nil) {
			t.Fatalf("queryUnescape(%q) = %q, %v; url.QueryUnescape: %q, %v", s, got, err, want, wantErr)
		}
	})
}
