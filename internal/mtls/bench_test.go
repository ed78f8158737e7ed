package mtls

import (
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// An Envoy header as SANITIZE_SET with every detail writes it.
func envoyHeader(b *testing.B) (string, *x509.Certificate) {
	root := newCA(b, "root")
	c, _ := root.issue(b, &x509.Certificate{
		Subject: pkix.Name{CommonName: "client-1", Organization: []string{"Example Corp"}, Country: []string{"US"}},
		URIs:    []*url.URL{mustURL("spiffe://example.org/ns/prod/sa/client")},
	})
	sum := sha256.Sum256(c.Raw)
	return `By=spiffe://example.org/ns/edge/sa/envoy;Hash=` + hex.EncodeToString(sum[:]) +
		`;Cert="` + pathEscaped(c) + `";Subject="CN=client-1,O=Example Corp,C=US";URI=spiffe://example.org/ns/prod/sa/client`, c
}

func BenchmarkParseXFCC(b *testing.B) {
	h, _ := envoyHeader(b)
	b.SetBytes(int64(len(h)))
	b.ReportAllocs()
	for b.Loop() {
		if err := parseXFCC(h, func(xfccElement) bool { return true }); err != nil {
			b.Fatal(err)
		}
	}
}

// The whole header path: parse, unescape, decode PEM, parse the
// certificate, check Hash, thumbprint.
func BenchmarkXFCCCertificateThumbprint(b *testing.B) {
	h, c := envoyHeader(b)
	src, err := NewSource(SourceConfig{Header: HeaderXFCC, Trust: trustProxy, ProxyVerified: true})
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest("POST", "/token", nil)
	r.Header.Set(HeaderXFCC, h)
	want := Thumbprint(c)
	b.ReportAllocs()
	for b.Loop() {
		got, err := src.Certificate(r)
		if err != nil || got.Thumbprint() != want {
			b.Fatal(err)
		}
	}
}

func BenchmarkEscapedPEMCertificate(b *testing.B) {
	_, c := envoyHeader(b)
	src, err := NewSource(SourceConfig{Header: "X-SSL-Client-Cert", Trust: trustProxy})
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest("POST", "/token", nil)
	r.Header.Set("X-SSL-Client-Cert", allEscaped(c))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := src.Certificate(r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkThumbprint(b *testing.B) {
	c := fixture(b)
	b.ReportAllocs()
	for b.Loop() {
		_ = Thumbprint(c)
	}
}

func BenchmarkBound(b *testing.B) {
	c := fixture(b)
	b.ReportAllocs()
	for b.Loop() {
		if !Bound(c, fixtureThumbprint) {
			b.Fatal("not bound")
		}
	}
}

func BenchmarkTLSClientAuthDN(b *testing.B) {
	_, c := envoyHeader(b)
	cert := &Certificate{Leaf: c, Verified: true}
	m := Metadata{SubjectDN: "CN=client-1,O=Example Corp,C=US"}
	v := &Verifier{}
	b.ReportAllocs()
	for b.Loop() {
		if err := v.TLSClientAuth(cert, m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTLSClientAuthRoots(b *testing.B) {
	root := newCA(b, "root")
	c, _ := root.issue(b, pkixName("client-1"))
	cert := &Certificate{Leaf: c}
	v := &Verifier{Roots: root.pool}
	m := Metadata{SubjectDN: "CN=client-1"}
	b.ReportAllocs()
	for b.Loop() {
		if err := v.TLSClientAuth(cert, m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSelfSigned(b *testing.B) {
	c, key := selfSigned(b, "client")
	_, other := selfSigned(b, "other")
	keys := &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &other.PublicKey}, {Key: &key.PublicKey}}}
	cert := &Certificate{Leaf: c}
	v := &Verifier{}
	b.ReportAllocs()
	for b.Loop() {
		if err := v.SelfSigned(cert, keys); err != nil {
			b.Fatal(err)
		}
	}
}
