package mtls

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/internal/testenv/clocktest"
)

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func TestTLSClientAuth(t *testing.T) {
	root := newCA(t, "root")
	mid := root.intermediate(t, "intermediate")
	otherCA := newCA(t, "other root")
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clk := clocktest.New(start)

	full := &x509.Certificate{
		Subject:        pkix.Name{CommonName: "client-1", Organization: []string{"Example Corp"}, Country: []string{"US"}},
		DNSNames:       []string{"other.example", "Client.Example.com"},
		URIs:           []*url.URL{mustURL("spiffe://Example.org/ns/prod/sa/client")},
		IPAddresses:    []net.IP{net.ParseIP("192.0.2.10").To4(), net.ParseIP("2001:db8::1")},
		EmailAddresses: []string{"Client@Example.com"},
		NotBefore:      start.Add(-time.Hour),
		NotAfter:       start.Add(24 * time.Hour),
	}
	leaf, _ := root.issue(t, full)
	viaMid, _ := mid.issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "client-1"}, NotBefore: start.Add(-time.Hour), NotAfter: start.Add(24 * time.Hour)})
	foreign, _ := otherCA.issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "client-1"}, NotBefore: start.Add(-time.Hour), NotAfter: start.Add(24 * time.Hour)})
	serverOnly, _ := root.issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "client-1"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, NotBefore: start.Add(-time.Hour), NotAfter: start.Add(24 * time.Hour)})
	// Go writes an IPv4 SAN in 4 bytes whatever it is given; a 16-byte
	// (IPv4-mapped) entry needs the extension written by hand.
	san, err := asn1.Marshal([]asn1.RawValue{{Class: asn1.ClassContextSpecific, Tag: 7, Bytes: net.ParseIP("192.0.2.10").To16()}})
	if err != nil {
		t.Fatal(err)
	}
	mapped, _ := root.issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "m"}, ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 17}, Value: san}}, NotBefore: start.Add(-time.Hour), NotAfter: start.Add(24 * time.Hour)})
	if len(mapped.IPAddresses) != 1 || len(mapped.IPAddresses[0]) != 16 {
		t.Fatalf("mapped SAN = %v", mapped.IPAddresses)
	}
	ss, _ := selfSigned(t, "client-1")

	upstream := &Verifier{}                             // trusts the TLS terminator's verification
	pinned := &Verifier{Roots: root.pool, Now: clk.Now} // verifies itself
	verified := func(c *x509.Certificate, inter ...*x509.Certificate) *Certificate {
		return &Certificate{Leaf: c, Intermediates: inter, Verified: true}
	}
	unverified := func(c *x509.Certificate, inter ...*x509.Certificate) *Certificate {
		return &Certificate{Leaf: c, Intermediates: inter}
	}
	const dn = "CN=client-1,O=Example Corp,C=US"
	tests := []struct {
		name    string
		v       *Verifier
		cert    *Certificate
		m       Metadata
		advance time.Duration
		wantErr error
	}{
		{"subject DN", upstream, verified(leaf), Metadata{SubjectDN: dn}, 0, nil},
		{"subject DN, other case and spacing", upstream, verified(leaf), Metadata{SubjectDN: "cn=CLIENT-1, o=example corp, c=us"}, 0, nil},
		{"subject DN in sequence order", upstream, verified(leaf), Metadata{SubjectDN: "C=US,O=Example Corp,CN=client-1"}, 0, ErrMismatch},
		{"wrong subject DN", upstream, verified(leaf), Metadata{SubjectDN: "CN=client-2,O=Example Corp,C=US"}, 0, ErrMismatch},
		{"subject DN of the CN alone", upstream, verified(leaf), Metadata{SubjectDN: "CN=client-1"}, 0, ErrMismatch},
		{"registered DN does not parse", upstream, verified(leaf), Metadata{SubjectDN: "CN=a;b"}, 0, ErrMismatch},

		{"SAN DNS, any case", upstream, verified(leaf), Metadata{SANDNS: "client.example.COM"}, 0, nil},
		{"SAN DNS, trailing dot", upstream, verified(leaf), Metadata{SANDNS: "client.example.com."}, 0, nil},
		{"SAN DNS mismatch", upstream, verified(leaf), Metadata{SANDNS: "client.example.net"}, 0, ErrMismatch},
		{"SAN DNS is not a suffix match", upstream, verified(leaf), Metadata{SANDNS: "example.com"}, 0, ErrMismatch},
		{"SAN DNS is not the CN", upstream, verified(leaf), Metadata{SANDNS: "client-1"}, 0, ErrMismatch},

		{"SAN URI, host in any case", upstream, verified(leaf), Metadata{SANURI: "spiffe://example.org/ns/prod/sa/client"}, 0, nil},
		{"SAN URI, path case matters", upstream, verified(leaf), Metadata{SANURI: "spiffe://example.org/ns/prod/sa/Client"}, 0, ErrMismatch},
		{"SAN URI, prefix only", upstream, verified(leaf), Metadata{SANURI: "spiffe://example.org/ns/prod"}, 0, ErrMismatch},

		{"SAN IPv4", upstream, verified(leaf), Metadata{SANIP: "192.0.2.10"}, 0, nil},
		{"SAN IPv6 in another spelling", upstream, verified(leaf), Metadata{SANIP: "2001:0db8:0:0:0:0:0:1"}, 0, nil},
		{"SAN IP mismatch", upstream, verified(leaf), Metadata{SANIP: "192.0.2.11"}, 0, ErrMismatch},
		{"SAN IP, mapped form is another binary", upstream, verified(leaf), Metadata{SANIP: "::ffff:192.0.2.10"}, 0, ErrMismatch},
		{"SAN IP, 16-byte entry against IPv4", upstream, verified(mapped), Metadata{SANIP: "192.0.2.10"}, 0, ErrMismatch},
		{"SAN IP, 16-byte entry against mapped", upstream, verified(mapped), Metadata{SANIP: "::ffff:192.0.2.10"}, 0, nil},

		{"SAN email, domain in any case", upstream, verified(leaf), Metadata{SANEmail: "Client@example.COM"}, 0, nil},
		{"SAN email, local part case matters", upstream, verified(leaf), Metadata{SANEmail: "client@Example.com"}, 0, ErrMismatch},
		{"SAN email mismatch", upstream, verified(leaf), Metadata{SANEmail: "other@Example.com"}, 0, ErrMismatch},

		{"two subjects registered", upstream, verified(leaf), Metadata{SubjectDN: dn, SANDNS: "client.example.com"}, 0, ErrMismatch},
		{"no subject registered", upstream, verified(leaf), Metadata{}, 0, ErrMismatch},
		{"no certificate", upstream, nil, Metadata{SubjectDN: dn}, 0, ErrNoCertificate},

		{"chain not verified and no roots", upstream, unverified(leaf), Metadata{SubjectDN: dn}, 0, ErrUntrusted},
		{"self-signed, not verified", upstream, unverified(ss), Metadata{SubjectDN: "CN=client-1"}, 0, ErrUntrusted},
		{"roots: chains", pinned, unverified(leaf), Metadata{SubjectDN: dn}, 0, nil},
		{"roots: through an intermediate", pinned, unverified(viaMid, mid.cert), Metadata{SubjectDN: "CN=client-1"}, 0, nil},
		{"roots: intermediate not sent", pinned, unverified(viaMid), Metadata{SubjectDN: "CN=client-1"}, 0, ErrUntrusted},
		{"roots: another CA", pinned, unverified(foreign), Metadata{SubjectDN: "CN=client-1"}, 0, ErrUntrusted},
		{"roots: upstream said verified, still checked", pinned, verified(foreign), Metadata{SubjectDN: "CN=client-1"}, 0, ErrUntrusted},
		{"roots: self-signed", pinned, unverified(ss), Metadata{SubjectDN: "CN=client-1"}, 0, ErrUntrusted},
		{"roots: server-auth only", pinned, unverified(serverOnly), Metadata{SubjectDN: "CN=client-1"}, 0, ErrUntrusted},
		{"roots: expired", pinned, unverified(leaf), Metadata{SubjectDN: dn}, 25 * time.Hour, ErrUntrusted},
		{"roots: not yet valid", pinned, unverified(leaf), Metadata{SubjectDN: dn}, -2 * time.Hour, ErrUntrusted},
		{"roots: right DN, wrong CA is untrusted, not mismatch", pinned, unverified(foreign), Metadata{SubjectDN: "CN=client-2"}, 0, ErrUntrusted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk.Advance(tc.advance)
			defer clk.Advance(-tc.advance)
			err := tc.v.TLSClientAuth(tc.cert, tc.m)
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			// The dispatcher says the same.
			err2 := tc.v.Authenticate(tc.cert, MethodTLSClientAuth, tc.m, nil)
			if (err == nil) != (err2 == nil) {
				t.Fatalf("Authenticate = %v, TLSClientAuth = %v", err2, err)
			}
		})
	}
}

func TestSelfSigned(t *testing.T) {
	cert, key := selfSigned(t, "client")
	other, otherKey := selfSigned(t, "other")
	sameKeyOtherCert := sign(t, &x509.Certificate{Subject: pkix.Name{CommonName: "renewed"}}, &x509.Certificate{Subject: pkix.Name{CommonName: "renewed"}}, key, key)
	root := newCA(t, "root")
	issued, _ := root.issue(t, pkixName("issued"))

	jwk := func(k any, use string, x5c ...*x509.Certificate) jose.JSONWebKey {
		return jose.JSONWebKey{Key: k, Use: use, Certificates: x5c, KeyID: "k"}
	}
	set := func(keys ...jose.JSONWebKey) *jose.JSONWebKeySet { return &jose.JSONWebKeySet{Keys: keys} }
	rsaKey := rsaPublic(t)
	tests := []struct {
		name    string
		cert    *Certificate
		keys    *jose.JSONWebKeySet
		wantErr error
	}{
		{"key registered", &Certificate{Leaf: cert}, set(jwk(&key.PublicKey, "sig")), nil},
		{"key registered without use", &Certificate{Leaf: cert}, set(jwk(&otherKey.PublicKey, ""), jwk(&key.PublicKey, "")), nil},
		{"certificate registered in x5c", &Certificate{Leaf: cert}, set(jwk(&key.PublicKey, "sig", cert)), nil},
		{"renewed certificate, same key", &Certificate{Leaf: sameKeyOtherCert}, set(jwk(&key.PublicKey, "sig", cert)), nil},
		{"registered as a private JWK", &Certificate{Leaf: cert}, set(jwk(key, "sig")), nil},
		{"CA-issued certificate whose key is registered", &Certificate{Leaf: issued}, set(jwk(&key.PublicKey, "sig")), ErrMismatch},
		{"key not in the JWKS", &Certificate{Leaf: other}, set(jwk(&key.PublicKey, "sig")), ErrMismatch},
		{"only an encryption key matches", &Certificate{Leaf: cert}, set(jwk(&key.PublicKey, "enc")), ErrMismatch},
		{"another key type", &Certificate{Leaf: cert}, set(jwk(rsaKey, "sig")), ErrMismatch},
		{"symmetric key", &Certificate{Leaf: cert}, set(jwk([]byte("0123456789abcdef0123456789abcdef"), "sig")), ErrMismatch},
		{"empty JWKS", &Certificate{Leaf: cert}, set(), ErrMismatch},
		{"no JWKS", &Certificate{Leaf: cert}, nil, ErrMismatch},
		{"no certificate", nil, set(jwk(&key.PublicKey, "sig")), ErrNoCertificate},
	}
	v := &Verifier{Roots: root.pool} // roots play no part in this method
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := v.SelfSigned(tc.cert, tc.keys)
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err2 := v.Authenticate(tc.cert, MethodSelfSignedTLSClientAuth, Metadata{}, tc.keys); (err == nil) != (err2 == nil) {
				t.Fatalf("Authenticate = %v, SelfSigned = %v", err2, err)
			}
		})
	}
	// The issued case fails on the key, not on a chain: register its key and it passes.
	if err := v.SelfSigned(&Certificate{Leaf: issued}, set(jwk(issued.PublicKey, "sig"))); err != nil {
		t.Fatalf("a certificate's own key: %v", err)
	}
}

func TestAuthenticateOtherMethods(t *testing.T) {
	cert, _ := selfSigned(t, "client")
	v := &Verifier{}
	for _, method := range []string{"client_secret_basic", "none", "private_key_jwt", ""} {
		if err := v.Authenticate(&Certificate{Leaf: cert, Verified: true}, method, Metadata{SubjectDN: "CN=client"}, nil); !errors.Is(err, ErrMismatch) {
			t.Errorf("%q: err = %v, want ErrMismatch", method, err)
		}
	}
	if err := v.Authenticate(nil, "client_secret_basic", Metadata{}, nil); !errors.Is(err, ErrNoCertificate) {
		t.Errorf("no certificate: err = %v", err)
	}
}
