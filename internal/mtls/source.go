package mtls

import (
	"crypto/x509"
	"errors"
	"net/http"
	"strings"
)

// Trust says whether the direct peer of a request (the address that opened
// the connection) is a proxy authd trusts to report the client certificate.
// httpapi.ClientIPs knows its trusted proxies; a Trusted method there (the
// peer address in its trusted list) is meant to implement it.
// Implementations must be safe for concurrent use.
type Trust interface {
	Trusted(r *http.Request) bool
}

// TrustFunc adapts a function to Trust.
type TrustFunc func(r *http.Request) bool

// Trusted calls f(r).
func (f TrustFunc) Trusted(r *http.Request) bool { return f(r) }

// Header names with a format of their own; any other name carries a
// URL-escaped PEM certificate.
const (
	// HeaderXFCC is Envoy's x-forwarded-client-cert.
	HeaderXFCC = "X-Forwarded-Client-Cert"
	// HeaderClientCert is RFC 9440 §2: the DER certificate as a structured
	// field byte sequence (":base64:"); HeaderClientCertChain, if present,
	// carries the intermediates the same way, as a list.
	HeaderClientCert      = "Client-Cert"
	HeaderClientCertChain = "Client-Cert-Chain"
)

// Caps on what a header may make authd parse. A certificate is 1 to 2 KB of
// DER, about 3 KB escaped; a leaf with a chain of maxChain fits in 64 KiB.
const (
	// MaxHeaderBytes caps the certificate header, all its lines together
	// (and Client-Cert-Chain with Client-Cert). Past it the header is
	// ErrMalformed, before any of it is parsed.
	MaxHeaderBytes  = 64 << 10
	maxChain        = 8  // certificates in one header, leaf included
	maxXFCCElements = 32 // proxies that appended to one XFCC header
	maxXFCCPairs    = 64 // key=value pairs in one element (DNS repeats)
)

// SourceConfig says where a Source finds certificates.
type SourceConfig struct {
	// Header names the header a trusted proxy writes the client certificate
	// into: HeaderXFCC, HeaderClientCert, or any other name for a URL-escaped
	// PEM (nginx $ssl_client_escaped_cert). Empty: only the TLS connection is
	// read.
	Header string
	// Trust decides whether the peer is a trusted proxy. Required with Header.
	Trust Trust
	// ProxyVerified: the proxy verifies client certificate chains against
	// the CAs authd accepts for tls_client_auth, so a header certificate
	// counts as verified (Certificate.Verified). Leave it false when the
	// proxy accepts any certificate (so that self-signed clients can
	// connect) and set Verifier.Roots instead.
	ProxyVerified bool
}

// Source finds the client certificate of a request. Build one with
// NewSource; it is safe for concurrent use.
type Source struct {
	header        string
	format        format
	trust         Trust
	proxyVerified bool
}

type format uint8

const (
	formatEscapedPEM format = iota
	formatXFCC
	formatRFC9440
)

// NewSource checks cfg and builds a Source.
func NewSource(cfg SourceConfig) (*Source, error) {
	s := &Source{trust: cfg.Trust, proxyVerified: cfg.ProxyVerified}
	if cfg.Header == "" {
		return s, nil
	}
	if !validHeaderName(cfg.Header) {
		return nil, errors.New("mtls: client certificate header " + quote(cfg.Header) + " is not a valid header name")
	}
	if cfg.Trust == nil {
		return nil, errors.New("mtls: a client certificate header needs trusted proxies")
	}
	s.header = http.CanonicalHeaderKey(cfg.Header)
	switch s.header {
	case HeaderXFCC:
		s.format = formatXFCC
	case HeaderClientCert:
		s.format = formatRFC9440
	case HeaderClientCertChain:
		return nil, errors.New("mtls: " + HeaderClientCertChain + " holds intermediates; configure " + HeaderClientCert)
	}
	return s, nil
}

// Certificate is a client certificate as the request presented it.
type Certificate struct {
	Leaf *x509.Certificate
	// Intermediates are the other certificates the client or proxy sent,
	// for chain verification; never trust anchors.
	Intermediates []*x509.Certificate
	// Verified: whoever terminated TLS verified the chain: authd's own
	// handshake (tls.VerifyClientCertIfGiven with ClientCAs), or a proxy
	// with SourceConfig.ProxyVerified.
	Verified bool
	// FromProxy: the certificate came from a trusted proxy's header.
	FromProxy bool
}

// Thumbprint is the x5t#S256 of the leaf (RFC 8705 §3.1).
func (c *Certificate) Thumbprint() string { return Thumbprint(c.Leaf) }

// Confirmation is the cnf value binding a token to the leaf (RFC 8705 §3.1).
func (c *Certificate) Confirmation() Confirmation { return Confirmation{X5TS256: c.Thumbprint()} }

// Certificate returns the client certificate of r.
//
// When a header is configured and the direct peer is trusted, the header is
// the only source: the TLS connection is the proxy's, and a certificate on it
// is the proxy's own. From any other peer the header is ignored, whatever it
// holds, and the TLS connection's certificate, if any, is the client's.
//
// Errors: ErrNoCertificate, ErrMalformed (only for a trusted proxy's header).
func (s *Source) Certificate(r *http.Request) (*Certificate, error) {
	if s.header != "" && s.trust.Trusted(r) {
		return s.fromHeader(r.Header)
	}
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil, ErrNoCertificate
	}
	pc := r.TLS.PeerCertificates
	return &Certificate{Leaf: pc[0], Intermediates: pc[1:], Verified: len(r.TLS.VerifiedChains) > 0}, nil
}

func (s *Source) fromHeader(h http.Header) (*Certificate, error) {
	values := h[s.header]
	if s.format == formatRFC9440 {
		return s.fromRFC9440(values, h[HeaderClientCertChain])
	}
	if err := checkSize(values); err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	var hash string
	switch s.format {
	case formatXFCC:
		el, err := lastXFCCElement(values)
		if err != nil {
			return nil, err
		}
		if certs, err = el.certificates(); err != nil {
			return nil, err
		}
		hash = el.hash
	default:
		if len(values) == 0 || (len(values) == 1 && strings.TrimSpace(values[0]) == "") {
			return nil, ErrNoCertificate
		}
		// A proxy sets the header once; two means something else wrote one.
		if len(values) > 1 {
			return nil, fail(kindMalformed, "header "+s.header+" sent more than once")
		}
		var err error
		if certs, err = parseEscapedPEM(values[0]); err != nil {
			return nil, err
		}
	}
	if hash != "" && !hashMatches(certs[0], hash) {
		return nil, fail(kindMalformed, "XFCC Hash does not match Cert")
	}
	return &Certificate{Leaf: certs[0], Intermediates: certs[1:], Verified: s.proxyVerified, FromProxy: true}, nil
}

func checkSize(values ...[]string) error {
	n := 0
	for _, vs := range values {
		for _, v := range vs {
			n += len(v)
		}
	}
	if n > MaxHeaderBytes {
		return fail(kindMalformed, "client certificate header over the size cap")
	}
	return nil
}

// validHeaderName: an RFC 9110 §5.1 token.
func validHeaderName(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

func quote(s string) string {
	if len(s) > 60 {
		s = s[:60] + "..."
	}
	return `"` + s + `"`
}
