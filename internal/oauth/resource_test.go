package oauth

import "testing"

func TestResourceIndicatorProblem(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"https://api.example.com/", true},
		{"https://api.example.com/orders?v=2", true},
		{"urn:example:orders", true},
		{"http://localhost:8080", true},
		{"", false},
		{"/relative", false},
		{"api.example.com", false},
		{"https://api.example.com/#frag", false},
		{"https://api.example.com/#", false},
		{"https://api.example.com/a b", false},
		{"https://api.example.com/\n", false},
		{"https://[::1", false},
		{"https:", false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := ResourceIndicatorProblem(tc.in); (got == "") != tc.ok {
				t.Fatalf("ResourceIndicatorProblem(%q) = %q, want ok=%v", tc.in, got, tc.ok)
			}
		})
	}
}

func FuzzResourceIndicatorProblem(f *testing.F) {
	for _, s := range []string{"https://api.example.com/", "urn:x", "#", "https://a/#b", "a b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ResourceIndicatorProblem(s) != "" {
			return
		}
		for i := 0; i < len(s); i++ {
			if s[i] == '#' || s[i] <= ' ' {
				t.Fatalf("accepted %q", s)
			}
		}
	})
}
