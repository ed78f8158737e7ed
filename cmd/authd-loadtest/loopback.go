package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// errNotLoopback is returned for any address outside 127.0.0.0/8 and ::1.
// This tool generates load and attack traffic: it must never be pointed at a
// machine other than the one it runs on.
var errNotLoopback = errors.New("not a loopback address (only 127.0.0.0/8, ::1 and localhost are allowed)")

// checkLoopbackURL parses raw as an http(s) base URL whose host is a loopback
// IP literal or "localhost", and returns it without a trailing slash. The
// check is made on the literal; the dialer checks again after resolution.
func checkLoopbackURL(flagName, raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("--%s %q: must be an http:// or https:// URL such as http://127.0.0.1:8080", flagName, raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("--%s %q: must be a base URL with no credentials, query or fragment", flagName, raw)
	}
	if !loopbackHost(u.Hostname()) {
		return "", fmt.Errorf("--%s %q: %s is %w", flagName, raw, u.Hostname(), errNotLoopback)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// checkLoopbackListen accepts host:port listen addresses on loopback only.
func checkLoopbackListen(flagName, addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--%s %q: must be host:port, e.g. 127.0.0.1:0", flagName, addr)
	}
	if !loopbackHost(host) {
		return fmt.Errorf("--%s %q: %s is %w", flagName, addr, host, errNotLoopback)
	}
	return nil
}

// loopbackHost reports whether host (no port, no brackets) is "localhost" or
// a loopback IP literal.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loopbackDial dials like net.Dialer but refuses, after name resolution, any
// address that is not loopback. It is the second line of defence behind
// checkLoopbackURL: it also covers redirects and hosts given by a server.
func loopbackDial(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		ips := []net.IP{net.ParseIP(host)}
		if ips[0] == nil {
			addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
			if err != nil {
				return nil, err
			}
			ips = ips[:0]
			for _, a := range addrs {
				ips = append(ips, a.IP)
			}
		}
		if len(ips) == 0 {
			return nil, fmt.Errorf("dial %s: no address", addr)
		}
		for _, ip := range ips {
			if !ip.IsLoopback() {
				return nil, fmt.Errorf("dial %s: %s is %w", addr, ip, errNotLoopback)
			}
		}
		return d.DialContext(ctx, network, net.JoinHostPort(ips[0].String(), port))
	}
}

// newHTTPClient returns a client that only reaches loopback addresses, never
// uses a proxy, never follows redirects (a redirect is an answer to count, not
// to chase) and keeps up to conns idle connections per host, so a closed-loop
// run with that many workers reuses its connections like wrk -c does.
//
// source, when set, is the local loopback address to send from.
func newHTTPClient(timeout time.Duration, conns int, source string) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	if ip := net.ParseIP(source); ip != nil && ip.IsLoopback() {
		d.LocalAddr = &net.TCPAddr{IP: ip}
	}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         loopbackDial(d),
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			IdleConnTimeout:     30 * time.Second,
			ForceAttemptHTTP2:   false,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
