package mtls

import (
	"crypto"
	"crypto/x509"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Token endpoint authentication methods (RFC 8705 §2.1.1, §2.2.1).
const (
	MethodTLSClientAuth           = "tls_client_auth"
	MethodSelfSignedTLSClientAuth = "self_signed_tls_client_auth"
)

// Verifier decides whether a certificate authenticates a client. The zero
// value trusts upstream chain verification and reads the system clock. It is
// safe for concurrent use.
type Verifier struct {
	// Roots, when set, is the CA pool every tls_client_auth certificate must
	// chain to, wherever it came from, checked here with the certificate's
	// intermediates, the client-auth extended key usage and Now. When nil,
	// tls_client_auth accepts only a certificate whose chain whoever
	// terminated TLS verified (Certificate.Verified).
	Roots *x509.CertPool
	// Now is the clock for chain verification; nil is time.Now.
	Now func() time.Time
}

// Authenticate checks cert against a client registered with
// token_endpoint_auth_method method: TLSClientAuth for tls_client_auth,
// SelfSigned for self_signed_tls_client_auth (keys is its jwks, or what its
// jwks_uri served). Errors: ErrNoCertificate, ErrUntrusted, ErrMismatch (also
// for any other method).
func (v *Verifier) Authenticate(cert *Certificate, method string, m Metadata, keys *jose.JSONWebKeySet) error {
	switch method {
	case MethodTLSClientAuth:
		return v.TLSClientAuth(cert, m)
	case MethodSelfSignedTLSClientAuth:
		return v.SelfSigned(cert, keys)
	}
	if cert == nil {
		return ErrNoCertificate
	}
	return fail(kindMismatch, "client is not registered for mutual-TLS authentication")
}

// TLSClientAuth is the PKI method (RFC 8705 §2.1): the chain is valid and the
// certificate carries the one subject value the client registered (§2.1.2).
// Errors: ErrNoCertificate, ErrUntrusted, ErrMismatch.
func (v *Verifier) TLSClientAuth(cert *Certificate, m Metadata) error {
	if cert == nil || cert.Leaf == nil {
		return ErrNoCertificate
	}
	if err := v.verifyChain(cert); err != nil {
		return err
	}
	leaf := cert.Leaf
	switch set := m.subjectFields(); {
	case set != 1:
		// Validate refuses this at registration; refuse it here too.
		return fail(kindMismatch, "registration does not name exactly one certificate subject")
	case m.SubjectDN != "":
		want, err := parseDN(m.SubjectDN)
		if err != nil {
			return fail(kindMismatch, "registered subject DN: "+err.Error())
		}
		got, err := subjectDN(leaf.RawSubject)
		if err != nil || !matchDN(want, got) {
			return fail(kindMismatch, "subject DN")
		}
	case m.SANDNS != "":
		want := strings.TrimSuffix(m.SANDNS, ".")
		if !anyOf(leaf.DNSNames, func(n string) bool { return strings.EqualFold(strings.TrimSuffix(n, "."), want) }) {
			return fail(kindMismatch, "dNSName SAN")
		}
	case m.SANURI != "":
		want, ok := normURI(m.SANURI)
		if !ok || !anyOf(leaf.URIs, func(u *url.URL) bool { g, ok := normURI(u.String()); return ok && g == want }) {
			return fail(kindMismatch, "uniformResourceIdentifier SAN")
		}
	case m.SANIP != "":
		// §2.1.2: compared in binary form (RFC 5952 §8), so a 4-byte and a
		// 16-byte (IPv4-mapped) entry are different addresses.
		want, err := netip.ParseAddr(m.SANIP)
		if err != nil || want.Zone() != "" {
			return fail(kindMismatch, "registered iPAddress SAN does not parse")
		}
		found := false
		for _, ip := range leaf.IPAddresses {
			if a, ok := netip.AddrFromSlice(ip); ok && a == want {
				found = true
			}
		}
		if !found {
			return fail(kindMismatch, "iPAddress SAN")
		}
	case m.SANEmail != "":
		if !anyOf(leaf.EmailAddresses, func(e string) bool { return sameEmail(e, m.SANEmail) }) {
			return fail(kindMismatch, "rfc822Name SAN")
		}
	}
	return nil
}

func (v *Verifier) verifyChain(cert *Certificate) error {
	if v.Roots == nil {
		if !cert.Verified {
			return fail(kindUntrusted, "chain not verified by the TLS terminator and no CA pool configured")
		}
		return nil
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	opts := x509.VerifyOptions{
		Roots:       v.Roots,
		CurrentTime: now(),
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if len(cert.Intermediates) > 0 {
		opts.Intermediates = x509.NewCertPool()
		for _, c := range cert.Intermediates {
			opts.Intermediates.AddCert(c)
		}
	}
	if _, err := cert.Leaf.Verify(opts); err != nil {
		return fail(kindUntrusted, err.Error())
	}
	return nil
}

// SelfSigned is the self-signed method (RFC 8705 §2.2): no chain is
// validated; the certificate's public key must be one the client registered
// in its JWK Set (§2.2.2). Comparing keys rather than whole certificates
// proves the same thing, since the handshake proved possession of the
// certificate's key, and lets a client register its key with or without x5c
// (go-jose already refuses a JWK whose x5c carries another key). Keys marked
// "use": "enc" are for encryption and never authenticate. Validity dates are
// not checked: nothing vouches for them; the registered key is the trust.
// Errors: ErrNoCertificate, ErrMismatch.
func (v *Verifier) SelfSigned(cert *Certificate, keys *jose.JSONWebKeySet) error {
	if cert == nil || cert.Leaf == nil {
		return ErrNoCertificate
	}
	pub, ok := cert.Leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || keys == nil {
		return fail(kindMismatch, "no registered key")
	}
	for i := range keys.Keys {
		k := &keys.Keys[i]
		if k.Use == "enc" {
			continue
		}
		if pub.Equal(k.Public().Key) {
			return nil
		}
	}
	return fail(kindMismatch, "certificate key is not in the registered JWK Set")
}

func anyOf[T any](xs []T, f func(T) bool) bool {
	for _, x := range xs {
		if f(x) {
			return true
		}
	}
	return false
}

// normURI: scheme and host are case-insensitive (RFC 3986 §6.2.2.1); the
// rest compares exactly, after the same parse on both sides.
func normURI(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() {
		return "", false
	}
	u.Host = strings.ToLower(u.Host)
	return u.String(), true
}

// sameEmail compares rfc822Names as RFC 5280 §7.5 does: the local part
// exactly, the domain without regard to case.
func sameEmail(a, b string) bool {
	i, j := strings.LastIndexByte(a, '@'), strings.LastIndexByte(b, '@')
	if i <= 0 || j <= 0 {
		return false
	}
	return a[:i] == b[:j] && strings.EqualFold(a[i+1:], b[j+1:])
}
