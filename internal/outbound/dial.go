package outbound

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// maxURLLength refuses URLs no legitimate document needs, before any work.
const maxURLLength = 4096

// checkURL applies the rules that can be decided from a URL alone: the
// first one and every redirect target. Host names are checked again, and
// for good, at dial time.
func (f *Fetcher) checkURL(u *url.URL) error {
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && f.opts.AllowLoopback:
	case u.Scheme == "http":
		return fmt.Errorf("%w: plain http (AUTHD_OUTBOUND_ALLOW_LOOPBACK is off)", ErrRefused)
	default:
		return fmt.Errorf("%w: scheme %q", ErrRefused, u.Scheme)
	}
	if u.User != nil {
		return fmt.Errorf("%w: credentials in the URL", ErrRefused)
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return fmt.Errorf("%w: no host", ErrRefused)
	}
	// An address literal is refused now, without a dial.
	if a, err := netip.ParseAddr(u.Hostname()); err == nil {
		return checkAddr(a, u.Scheme == "http", f.opts.AllowLoopback)
	}
	return nil
}

// parseURL parses and checks a caller's URL and returns it in the form the
// cache keys on (lower-case host, no fragment).
func (f *Fetcher) parseURL(raw string) (*url.URL, error) {
	if len(raw) > maxURLLength {
		return nil, fmt.Errorf("%w: URL longer than %d bytes", ErrRefused, maxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	if err := f.checkURL(u); err != nil {
		return nil, fmt.Errorf("%s: %w", u.Redacted(), err)
	}
	u.Host = strings.ToLower(u.Host)
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// checkRedirect re-applies the URL rules to every redirect target and
// bounds their number; the target's addresses are checked at dial time.
func (f *Fetcher) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > f.opts.MaxRedirects {
		return fmt.Errorf("%w: more than %d redirects", ErrRefused, f.opts.MaxRedirects)
	}
	if err := f.checkURL(req.URL); err != nil {
		return fmt.Errorf("redirect to %s: %w", req.URL.Redacted(), err)
	}
	req.Header.Del("Referer")
	return nil
}

// control runs after the socket exists and before it connects, with the
// address the resolver chose: checking here rather than before resolution
// is what defeats DNS rebinding (a name that resolves to a public address
// for a check and to a private one for the connection).
func (f *Fetcher) control(plain bool) func(ctx context.Context, network, address string, c syscall.RawConn) error {
	return func(_ context.Context, network, address string, _ syscall.RawConn) error {
		if network != "tcp4" && network != "tcp6" {
			return fmt.Errorf("%w: network %s", ErrRefused, network)
		}
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("%w: dial %s: %v", ErrRefused, address, err)
		}
		return checkAddr(ap.Addr(), plain, f.opts.AllowLoopback)
	}
}

// newTransport returns the transport of one scheme. There is one per scheme
// because the dial-time rule differs (plain http goes to loopback only) and
// the dialer cannot see the request's scheme.
func (f *Fetcher) newTransport(plain bool) *http.Transport {
	dial := f.opts.dial
	if dial == nil {
		// No timeouts of its own here or in the transport: the fetch's
		// context carries the one deadline, from dial to the last byte.
		d := &net.Dialer{
			KeepAlive:      30 * time.Second,
			Resolver:       f.opts.Resolver,
			ControlContext: f.control(plain),
		}
		dial = d.DialContext
	}
	return &http.Transport{
		Proxy:                  nil, // a proxy would be dialled instead of the target, bypassing control
		DialContext:            dial,
		TLSClientConfig:        &tls.Config{RootCAs: f.opts.RootCAs, MinVersion: tls.VersionTLS12},
		MaxResponseHeaderBytes: 64 << 10,
		MaxIdleConns:           32,
		MaxIdleConnsPerHost:    2,
		IdleConnTimeout:        30 * time.Second,
		ForceAttemptHTTP2:      true,
	}
}

// schemeTransport sends https through one transport and plain http (only
// when loopback is allowed) through the other.
type schemeTransport struct {
	https, http *http.Transport
}

func (t schemeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	switch {
	case req.URL.Scheme == "https":
		return t.https.RoundTrip(req)
	case req.URL.Scheme == "http" && t.http != nil:
		return t.http.RoundTrip(req)
	}
	if req.Body != nil {
		_ = req.Body.Close()
	}
	return nil, fmt.Errorf("%w: scheme %q", ErrRefused, req.URL.Scheme)
}

func (t schemeTransport) closeIdle() {
	t.https.CloseIdleConnections()
	if t.http != nil {
		t.http.CloseIdleConnections()
	}
}
