package httpapi

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ClientIPs attributes requests to client addresses for limits and security
// events. Behind a load balancer the peer address is the balancer's, so the
// X-Forwarded-For header is believed, but only as far as it was written by
// proxies we trust: reading it from the right, the first address that is not
// a trusted proxy is the client. Anyone can send the header; a trusted proxy
// appends to it, it does not vouch for what was there before.
type ClientIPs struct {
	trusted []netip.Prefix
}

// NewClientIPs parses trusted proxy networks (CIDRs or single addresses).
func NewClientIPs(trusted []string) (*ClientIPs, error) {
	c := &ClientIPs{}
	for _, t := range trusted {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		if !strings.Contains(t, "/") {
			a, err := netip.ParseAddr(t)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: %w", t, err)
			}
			t = netip.PrefixFrom(a, a.BitLen()).String()
		}
		p, err := netip.ParsePrefix(t)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", t, err)
		}
		c.trusted = append(c.trusted, p.Masked())
	}
	return c, nil
}

func (c *ClientIPs) isTrusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range c.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Of returns the client address of r.
func (c *ClientIPs) Of(r *http.Request) string {
	peer := peerIP(r)
	if c == nil || len(c.trusted) == 0 {
		return peer
	}
	a, err := netip.ParseAddr(peer)
	if err != nil || !c.isTrusted(a) {
		return peer
	}
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		parts := strings.Split(hops[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			h, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				return peer // a malformed hop: trust nothing past it
			}
			if !c.isTrusted(h) {
				return h.Unmap().String()
			}
		}
	}
	return peer
}

// Trusted reports whether r's direct peer is a trusted proxy (whose headers,
// such as a forwarded client certificate, are believed).
func (c *ClientIPs) Trusted(r *http.Request) bool {
	if c == nil || len(c.trusted) == 0 {
		return false
	}
	a, err := netip.ParseAddr(peerIP(r))
	return err == nil && c.isTrusted(a)
}

func peerIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
