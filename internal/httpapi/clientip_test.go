package httpapi

import (
	"net/http/httptest"
	"testing"
)

func TestClientIPs(t *testing.T) {
	c, err := NewClientIPs([]string{"10.0.0.0/8", "192.168.1.1"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"no proxy", "203.0.113.9:1234", nil, "203.0.113.9"},
		{"untrusted peer's header ignored", "203.0.113.9:1234", []string{"1.2.3.4"}, "203.0.113.9"},
		{"trusted proxy", "10.1.2.3:80", []string{"198.51.100.7"}, "198.51.100.7"},
		{"spoofed left part ignored", "10.1.2.3:80", []string{"6.6.6.6, 198.51.100.7"}, "198.51.100.7"},
		{"chain of trusted proxies", "10.1.2.3:80", []string{"198.51.100.7, 192.168.1.1", "10.9.9.9"}, "198.51.100.7"},
		{"malformed hop", "10.1.2.3:80", []string{"198.51.100.7, garbage"}, "10.1.2.3"},
		{"only proxies", "10.1.2.3:80", []string{"10.0.0.1"}, "10.1.2.3"},
		{"ipv6 peer", "[2001:db8::1]:443", nil, "2001:db8::1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := c.Of(r); got != tc.want {
				t.Fatalf("Of = %s, want %s", got, tc.want)
			}
		})
	}
	if _, err := NewClientIPs([]string{"not-a-cidr"}); err == nil {
		t.Error("bad proxy accepted")
	}
	var none *ClientIPs
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "203.0.113.1:9"
	r.Header.Set("X-Forwarded-For", "1.1.1.1")
	if none.Of(r) != "203.0.113.1" {
		t.Error("nil ClientIPs must use the peer")
	}
}
