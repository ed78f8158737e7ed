package httpapi

import (
	"strings"
	"testing"
)

func TestPrefersHTML(t *testing.T) {
	tests := []struct {
		name, accept string
		want         bool
	}{
		{"firefox", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true},
		{"chrome", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7", true},
		{"safari", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true},
		{"text/*", "text/*", true},
		{"case and spaces", " Text/HTML ; Q=1 ", true},
		{"html preferred over json", "application/json;q=0.5, text/html", true},

		{"none", "", false},
		{"curl", "*/*", false},
		{"json", "application/json", false},
		{"json preferred", "text/html;q=0.5, application/json", false},
		{"tie", "text/html, application/json", false},
		{"html refused", "text/html;q=0, */*", false},
		{"problem json", "application/problem+json, */*;q=0.1", false},
		{"malformed q", "text/html;q=high", false},
		{"q out of range", "text/html;q=2", false},
		{"garbage", "html", false},
		{"html beyond the ranges read", strings.Repeat("image/png, ", 40) + "text/html", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := prefersHTML(tc.accept); got != tc.want {
				t.Errorf("prefersHTML(%q) = %v, want %v", tc.accept, got, tc.want)
			}
		})
	}
}

// FuzzPrefersHTML: any Accept header is read without a panic, and a header
// that does not mention text or a wildcard never gets HTML.
func FuzzPrefersHTML(f *testing.F) {
	for _, s := range []string{"text/html", "*/*;q=0.8", "text/html;q=0.5, application/json", ";;,,//", "text/html;q="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, accept string) {
		lower := strings.ToLower(accept)
		if prefersHTML(accept) && !strings.Contains(lower, "text/") && !strings.Contains(lower, "*") {
			t.Fatalf("HTML for %q", accept)
		}
	})
}
