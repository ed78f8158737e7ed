package outbound

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of the zero Options.
const (
	DefaultTimeout       = 5 * time.Second
	DefaultMaxBytes      = 256 << 10
	DefaultMaxRedirects  = 3
	DefaultMinTTL        = time.Minute
	DefaultMaxTTL        = 24 * time.Hour
	DefaultTTL           = 5 * time.Minute
	DefaultStaleFor      = time.Hour
	DefaultErrorTTL      = 10 * time.Second
	DefaultMaxEntries    = 1024
	DefaultMaxCacheBytes = 32 << 20
	DefaultMaxInFlight   = 16
	DefaultUserAgent     = "authd"
)

// Options configure a Fetcher. The zero value is the production default:
// public https targets only, the system's roots, the limits above.
type Options struct {
	// AllowLoopback lets the fetcher connect to loopback addresses, and to
	// use plain http, to loopback only (setting AUTHD_OUTBOUND_ALLOW_LOOPBACK;
	// for tests and single-host setups). Private, link-local and other
	// non-public addresses stay refused.
	AllowLoopback bool

	// RootCAs are the certificate authorities outbound TLS trusts; nil is the
	// system's. LoadCAs builds a pool of the system's plus a file's
	// (AUTHD_OUTBOUND_CA_FILE).
	RootCAs *x509.CertPool

	// Timeout bounds one fetch from dial to the last byte, redirects
	// included (DefaultTimeout).
	Timeout time.Duration

	// MaxBytes caps a response body, after decompression (DefaultMaxBytes).
	MaxBytes int64

	// MaxRedirects is how many redirects one fetch follows, each checked
	// like the first URL (DefaultMaxRedirects; negative: none).
	MaxRedirects int

	// MinTTL and MaxTTL bound how long a response stays fresh, whatever its
	// Cache-Control or Expires say; DefaultTTL applies when they say nothing.
	// The floor is what keeps a server (or whoever controls a client's
	// jwks_uri) from making authd revalidate on every request: no-cache and
	// max-age=0 are revalidated after MinTTL, not on every use. (no-store
	// is honoured: such a response is not kept at all.)
	MinTTL, MaxTTL, DefaultTTL time.Duration

	// StaleFor is how long past its freshness a document is still served
	// when fetching it again fails (DefaultStaleFor; negative: never).
	StaleFor time.Duration

	// ErrorTTL is how long a failed fetch is remembered: for that long the
	// URL is not fetched again and callers get the stale document or the
	// same error (DefaultErrorTTL).
	ErrorTTL time.Duration

	// MaxEntries and MaxCacheBytes bound the cache; the least recently used
	// entries go first (DefaultMaxEntries, DefaultMaxCacheBytes).
	MaxEntries    int
	MaxCacheBytes int64

	// MaxInFlight bounds concurrent outbound fetches (DefaultMaxInFlight).
	MaxInFlight int

	// UserAgent is sent with every request (DefaultUserAgent).
	UserAgent string

	// Resolver resolves host names; nil is net.DefaultResolver. Whatever it
	// answers, the address is checked when the connection is dialled.
	Resolver *net.Resolver

	// Now is the clock of the cache (time.Now when nil).
	Now func() time.Time

	// Logger receives failed fetches and stale answers (discarded when nil).
	Logger *slog.Logger

	// Registerer receives the fetcher's metrics; nil registers nothing.
	Registerer prometheus.Registerer

	// dial replaces the dialer in tests that run over in-memory pipes inside
	// a synctest bubble; the address rules are then not exercised.
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

func (o Options) withDefaults() (Options, error) {
	setDur := func(d *time.Duration, def time.Duration) {
		if *d == 0 {
			*d = def
		}
	}
	setDur(&o.Timeout, DefaultTimeout)
	setDur(&o.MinTTL, DefaultMinTTL)
	setDur(&o.MaxTTL, DefaultMaxTTL)
	setDur(&o.DefaultTTL, DefaultTTL)
	setDur(&o.StaleFor, DefaultStaleFor)
	setDur(&o.ErrorTTL, DefaultErrorTTL)
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	switch {
	case o.MaxRedirects == 0:
		o.MaxRedirects = DefaultMaxRedirects
	case o.MaxRedirects < 0:
		o.MaxRedirects = 0
	}
	if o.StaleFor < 0 {
		o.StaleFor = 0
	}
	if o.MaxEntries == 0 {
		o.MaxEntries = DefaultMaxEntries
	}
	if o.MaxCacheBytes == 0 {
		o.MaxCacheBytes = DefaultMaxCacheBytes
	}
	if o.MaxInFlight == 0 {
		o.MaxInFlight = DefaultMaxInFlight
	}
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case o.Timeout < 0, o.MinTTL < 0, o.DefaultTTL < 0, o.ErrorTTL < 0:
		return o, errors.New("outbound: durations must not be negative")
	case o.MinTTL > o.MaxTTL:
		return o, fmt.Errorf("outbound: MinTTL %v is above MaxTTL %v", o.MinTTL, o.MaxTTL)
	case o.MaxBytes < 0, o.MaxEntries < 0, o.MaxCacheBytes < 0, o.MaxInFlight < 0:
		return o, errors.New("outbound: limits must not be negative")
	}
	return o, nil
}

// LoadCAs returns the system's certificate authorities plus those in the PEM
// file at path, for Options.RootCAs. A file without a certificate is an
// error, so a wrong path or format stops startup instead of silently
// trusting only the system.
func LoadCAs(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("outbound: CA file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("outbound: CA file %s: no PEM certificate in it", path)
	}
	return pool, nil
}
