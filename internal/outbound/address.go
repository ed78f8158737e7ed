package outbound

import (
	"fmt"
	"net/netip"
)

// addrClass is what the SSRF rules make of an address.
type addrClass int

const (
	classPublic addrClass = iota
	classLoopback
	classRefused
)

// special are the ranges of the IANA IPv4 and IPv6 Special-Purpose Address
// Registries (RFC 6890) that are not globally reachable, plus those that
// are but that a server has no business fetching from (multicast,
// documentation). Loopback, the unspecified address, IPv4-mapped and the
// address-embedding prefixes are handled in classify before this table.
var special = func() []struct {
	p   netip.Prefix
	why string
} {
	rows := []struct{ prefix, why string }{
		{"0.0.0.0/8", "\"this network\" (RFC 791)"},
		{"10.0.0.0/8", "private (RFC 1918)"},
		{"100.64.0.0/10", "shared address space, CGNAT (RFC 6598)"},
		{"169.254.0.0/16", "link-local, cloud metadata (RFC 3927)"},
		{"172.16.0.0/12", "private (RFC 1918)"},
		{"192.0.0.0/24", "IETF protocol assignments (RFC 6890)"},
		{"192.0.2.0/24", "documentation (RFC 5737)"},
		{"192.88.99.0/24", "6to4 relay anycast (RFC 7526)"},
		{"192.168.0.0/16", "private (RFC 1918)"},
		{"198.18.0.0/15", "benchmarking (RFC 2544)"},
		{"198.51.100.0/24", "documentation (RFC 5737)"},
		{"203.0.113.0/24", "documentation (RFC 5737)"},
		{"224.0.0.0/4", "multicast (RFC 5771)"},
		{"240.0.0.0/4", "reserved, limited broadcast (RFC 1112, RFC 919)"},
		{"::/96", "IPv4-compatible, deprecated (RFC 4291 §2.5.5.1)"},
		{"64:ff9b:1::/48", "local-use IPv4/IPv6 translation (RFC 8215)"},
		{"100::/64", "discard-only (RFC 6666)"},
		{"2001::/23", "IETF protocol assignments, Teredo (RFC 2928, RFC 4380)"},
		{"2001:db8::/32", "documentation (RFC 3849)"},
		{"3fff::/20", "documentation (RFC 9637)"},
		{"5f00::/16", "segment routing (RFC 9602)"},
		{"fc00::/7", "unique local (RFC 4193)"},
		{"fe80::/10", "link-local (RFC 4291)"},
		{"fec0::/10", "site-local, deprecated (RFC 3879)"},
		{"ff00::/8", "multicast (RFC 4291)"},
	}
	out := make([]struct {
		p   netip.Prefix
		why string
	}, len(rows))
	for i, r := range rows {
		out[i].p = netip.MustParsePrefix(r.prefix)
		out[i].why = r.why
	}
	return out
}()

var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96") // RFC 6052 §2.1: the IPv4 address is the last 32 bits
	sixToFour = netip.MustParsePrefix("2002::/16")    // RFC 3056 §2: the IPv4 address is bits 16–47
	global6   = netip.MustParsePrefix("2000::/3")     // RFC 4291 §2.4: global unicast; the rest is unassigned
)

// classify says whether authd may connect to a: public, loopback (allowed
// only with Options.AllowLoopback), or refused, with the reason.
func classify(a netip.Addr) (addrClass, string) {
	if !a.IsValid() {
		return classRefused, "not an IP address"
	}
	if a.Zone() != "" {
		return classRefused, "scoped address"
	}
	// An IPv4-mapped address (::ffff:10.0.0.1) reaches the IPv4 address on a
	// dual-stack socket, so it is what it maps.
	a = a.Unmap()
	switch {
	case a.IsUnspecified():
		return classRefused, "unspecified address"
	case a.IsLoopback():
		return classLoopback, "loopback"
	}
	if a.Is6() {
		// Prefixes that embed an IPv4 address reach it through a translator
		// or relay: refused when the embedded one would be.
		var embedded netip.Addr
		b := a.As16()
		switch {
		case nat64.Contains(a):
			embedded = netip.AddrFrom4([4]byte(b[12:16]))
		case sixToFour.Contains(a):
			embedded = netip.AddrFrom4([4]byte(b[2:6]))
		}
		if embedded.IsValid() {
			if c, why := classify(embedded); c != classPublic {
				return classRefused, fmt.Sprintf("embeds %s, %s", embedded, why)
			}
			return classPublic, ""
		}
	}
	for _, s := range special {
		if s.p.Contains(a) {
			return classRefused, s.why
		}
	}
	if a.Is6() && !global6.Contains(a) {
		return classRefused, "not global unicast (RFC 4291 §2.4)"
	}
	return classPublic, ""
}

// checkAddr applies the rules to an address about to be dialled: public
// addresses over TLS; loopback, and plain http to loopback only, when
// allowLoopback; nothing else.
func checkAddr(a netip.Addr, plain, allowLoopback bool) error {
	c, why := classify(a)
	switch {
	case c == classLoopback && allowLoopback:
		return nil
	case c == classLoopback:
		return fmt.Errorf("%w: %s is loopback (AUTHD_OUTBOUND_ALLOW_LOOPBACK is off)", ErrRefused, a)
	case c == classRefused:
		return fmt.Errorf("%w: %s is %s", ErrRefused, a, why)
	case plain:
		return fmt.Errorf("%w: plain http to %s, which is not loopback", ErrRefused, a)
	}
	return nil
}
