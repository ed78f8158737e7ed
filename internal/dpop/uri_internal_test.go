package dpop

import (
	"strings"
	"testing"
)

// FuzzNormalizeURI: normalisation never panics, drops query and fragment,
// and is its own normal form (normalising twice changes nothing), so two
// URIs match exactly when their normal forms are equal.
func FuzzNormalizeURI(f *testing.F) {
	for _, s := range []string{
		"https://server.example.com/token", "HTTPS://Server.Example.COM:443/a/../b/./c?q#f",
		"http://[2001:DB8::1]:80", "https://h/%7e%2f%41", "https://h:0443/%2E%2E/x", "https://h/a b",
		"https://h/é", "https://user@h/", "https:opaque", "//h/x", "https://h//a/./",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := normalizeURI(s)
		if err != nil {
			return
		}
		if strings.ContainsAny(n, "?#") {
			t.Fatalf("normalizeURI(%q) = %q keeps a query or fragment", s, n)
		}
		n2, err := normalizeURI(n)
		if err != nil || n2 != n {
			t.Fatalf("normalizeURI(%q) = %q, but normalizeURI(%q) = %q, %v", s, n, n, n2, err)
		}
	})
}

func TestRemoveDotSegments(t *testing.T) {
	// RFC 3986 §5.2.4 and §5.4's examples, for absolute paths.
	for in, want := range map[string]string{
		"/a/b/c/./../../g": "/a/g",
		"/a/b/../c":        "/a/c",
		"/a/..":            "/",
		"/..":              "/",
		"/../a":            "/a",
		"/a/b/.":           "/a/b/",
		"/a/b/..":          "/a/",
		"/a//b/../c":       "/a//c",
		"/a.b/c..d/.e":     "/a.b/c..d/.e",
		"":                 "",
		"/":                "/",
	} {
		if got := removeDotSegments(in); got != want {
			t.Errorf("removeDotSegments(%q) = %q; want %q", in, got, want)
		}
	}
}
