package outbound

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		addr string
		want addrClass
	}{
		// Public.
		{"8.8.8.8", classPublic},
		{"1.1.1.1", classPublic},
		{"100.63.255.255", classPublic}, // just below CGNAT
		{"100.128.0.0", classPublic},    // just above
		{"172.15.255.255", classPublic},
		{"172.32.0.0", classPublic},
		{"192.169.0.1", classPublic},
		{"2606:4700:4700::1111", classPublic},
		{"::ffff:8.8.8.8", classPublic},
		{"64:ff9b::808:808", classPublic}, // NAT64 of 8.8.8.8
		{"2002:808:808::1", classPublic},  // 6to4 of 8.8.8.8

		// Loopback: allowed only with AllowLoopback.
		{"127.0.0.1", classLoopback},
		{"127.255.255.254", classLoopback},
		{"::1", classLoopback},
		{"::ffff:127.0.0.1", classLoopback},

		// Refused.
		{"0.0.0.0", classRefused},
		{"0.1.2.3", classRefused},
		{"10.0.0.1", classRefused},
		{"10.255.255.255", classRefused},
		{"172.16.0.1", classRefused},
		{"172.31.255.255", classRefused},
		{"192.168.1.1", classRefused},
		{"169.254.169.254", classRefused}, // cloud metadata
		{"169.254.0.1", classRefused},
		{"100.64.0.1", classRefused},
		{"100.127.255.255", classRefused},
		{"192.0.0.8", classRefused},
		{"192.0.2.1", classRefused},
		{"198.18.0.1", classRefused},
		{"198.51.100.7", classRefused},
		{"203.0.113.9", classRefused},
		{"224.0.0.1", classRefused},
		{"239.255.255.250", classRefused},
		{"240.0.0.1", classRefused},
		{"255.255.255.255", classRefused},
		{"::", classRefused},
		{"::ffff:10.0.0.1", classRefused},
		{"::ffff:169.254.169.254", classRefused},
		{"::ffff:0.0.0.0", classRefused},
		{"::127.0.0.1", classRefused}, // IPv4-compatible
		{"::10.0.0.1", classRefused},
		{"fc00::1", classRefused},
		{"fd12:3456::1", classRefused},
		{"fe80::1", classRefused},
		{"fe80::1%eth0", classRefused},
		{"febf::1", classRefused},
		{"fec0::1", classRefused},
		{"ff02::1", classRefused},
		{"64:ff9b::a00:1", classRefused},     // NAT64 of 10.0.0.1
		{"64:ff9b::a9fe:a9fe", classRefused}, // NAT64 of 169.254.169.254
		{"64:ff9b::7f00:1", classRefused},    // NAT64 of loopback is not loopback
		{"64:ff9b:1::1", classRefused},
		{"2002:a00:1::1", classRefused},  // 6to4 of 10.0.0.1
		{"2002:7f00:1::1", classRefused}, // 6to4 of 127.0.0.1
		{"2001::1", classRefused},        // Teredo
		{"2001:db8::1", classRefused},
		{"3fff::1", classRefused},
		{"100::1", classRefused},
		{"4000::1", classRefused}, // outside 2000::/3
		{"::2", classRefused},
	}
	for _, tc := range tests {
		t.Run(tc.addr, func(t *testing.T) {
			got, why := classify(netip.MustParseAddr(tc.addr))
			if got != tc.want {
				t.Fatalf("classify(%s) = %d (%s), want %d", tc.addr, got, why, tc.want)
			}
			if got == classRefused && why == "" {
				t.Fatalf("classify(%s) refused without a reason", tc.addr)
			}
		})
	}
	if c, _ := classify(netip.Addr{}); c != classRefused {
		t.Fatal("the zero Addr is not refused")
	}
}

func TestCheckAddr(t *testing.T) {
	tests := []struct {
		name         string
		addr         string
		plain, allow bool
		wantRefused  bool
	}{
		{"public over TLS", "8.8.8.8", false, false, false},
		{"public over plain http", "8.8.8.8", true, true, true},
		{"loopback by default", "127.0.0.1", false, false, true},
		{"loopback allowed", "127.0.0.1", false, true, false},
		{"plain http to loopback allowed", "127.0.0.1", true, true, false},
		{"plain http to mapped loopback allowed", "::ffff:127.0.0.1", true, true, false},
		{"private even when loopback is allowed", "10.0.0.1", false, true, true},
		{"metadata even when loopback is allowed", "169.254.169.254", true, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkAddr(netip.MustParseAddr(tc.addr), tc.plain, tc.allow)
			if got := errors.Is(err, ErrRefused); got != tc.wantRefused {
				t.Fatalf("checkAddr = %v, want refused %v", err, tc.wantRefused)
			}
		})
	}
}

func TestControl(t *testing.T) {
	f := newFetcher(t, Options{AllowLoopback: true})
	tests := []struct {
		name, network, address string
		plain, wantRefused     bool
	}{
		{"public", "tcp4", "8.8.8.8:443", false, false},
		{"loopback", "tcp4", "127.0.0.1:443", false, false},
		{"loopback v6", "tcp6", "[::1]:443", false, false},
		{"private", "tcp4", "10.1.2.3:443", false, true},
		{"metadata", "tcp4", "169.254.169.254:80", true, true},
		{"mapped private", "tcp6", "[::ffff:192.168.0.1]:443", false, true},
		{"link-local with zone", "tcp6", "[fe80::1%lo]:443", false, true},
		{"plain to public", "tcp4", "8.8.8.8:80", true, true},
		{"udp", "udp4", "8.8.8.8:443", false, true},
		{"garbage", "tcp4", "nonsense", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := f.control(tc.plain)(t.Context(), tc.network, tc.address, nil)
			if got := errors.Is(err, ErrRefused); got != tc.wantRefused {
				t.Fatalf("control(%s %s) = %v, want refused %v", tc.network, tc.address, err, tc.wantRefused)
			}
		})
	}
}

// TestURLRules covers what is refused from the URL alone, before any
// connection.
func TestURLRules(t *testing.T) {
	tests := []struct {
		name        string
		url         string
		allow       bool
		wantRefused bool
	}{
		{"https name", "https://op.example.com/jwks", false, false},
		{"https public literal", "https://8.8.8.8/jwks", false, false},
		{"plain http by default", "http://op.example.com/jwks", false, true},
		{"plain http with loopback allowed", "http://127.0.0.1:8080/jwks", true, false},
		{"ftp", "ftp://op.example.com/jwks", true, true},
		{"file", "file:///etc/passwd", true, true},
		{"javascript", "javascript:alert(1)", true, true},
		{"no scheme", "//op.example.com/jwks", true, true},
		{"relative", "/jwks", true, true},
		{"empty", "", true, true},
		{"no host", "https:///jwks", true, true},
		{"opaque", "https:op.example.com", true, true},
		{"credentials", "https://user:pw@op.example.com/jwks", true, true},
		{"user only", "https://user@op.example.com/jwks", true, true},
		{"private literal", "https://10.0.0.1/jwks", true, true},
		{"metadata literal", "https://169.254.169.254/latest/meta-data/", true, true},
		{"mapped metadata literal", "https://[::ffff:169.254.169.254]/", true, true},
		{"unspecified literal", "https://0.0.0.0/", true, true},
		{"link-local with zone", "https://[fe80::1%25eth0]/", true, true},
		{"loopback literal by default", "https://127.0.0.1/", false, true},
		{"v6 loopback literal by default", "https://[::1]/", false, true},
		{"loopback literal allowed", "https://127.0.0.1/", true, false},
		{"too long", "https://op.example.com/" + string(make([]byte, maxURLLength)), true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &Fetcher{opts: Options{AllowLoopback: tc.allow}}
			_, err := f.parseURL(tc.url)
			if got := errors.Is(err, ErrRefused); got != tc.wantRefused {
				t.Fatalf("parseURL(%q) = %v, want refused %v", tc.url, err, tc.wantRefused)
			}
		})
	}
}

func TestParseURLNormalises(t *testing.T) {
	f := &Fetcher{}
	u, err := f.parseURL("https://OP.Example.COM/Path?q=1#frag")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := u.String(), "https://op.example.com/Path?q=1"; got != want {
		t.Fatalf("parseURL = %s, want %s", got, want)
	}
	// The error names the URL without its password.
	_, err = f.parseURL("https://user:secret@op.example.com/")
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("error %v shows the password", err)
	}
}
