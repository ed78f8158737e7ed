package mtls

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A test PKI: a CA, certificates it issues, self-signed certificates. Keys
// are P-256, generated per test run; nothing here is a fixture.

var serial atomic.Int64

type ca struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// caValidity spans any clock a test sets.
var caNotBefore, caNotAfter = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)

func newCA(t testing.TB, cn string) *ca {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		NotBefore:             caNotBefore,
		NotAfter:              caNotAfter,
		Subject:               pkix.Name{CommonName: cn},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	cert := sign(t, tmpl, tmpl, key, key)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &ca{cert: cert, key: key, pool: pool}
}

// intermediate issues a CA certificate under c.
func (c *ca) intermediate(t testing.TB, cn string) *ca {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		NotBefore:             caNotBefore,
		NotAfter:              caNotAfter,
		Subject:               pkix.Name{CommonName: cn},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	return &ca{cert: sign(t, tmpl, c.cert, key, c.key), key: key}
}

// issue signs a client certificate; zero validity means an hour ago to a day
// from now, zero ExtKeyUsage means client auth.
func (c *ca) issue(t testing.TB, tmpl *x509.Certificate) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key := newKey(t)
	if tmpl.ExtKeyUsage == nil {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	return sign(t, tmpl, c.cert, key, c.key), key
}

func selfSigned(t testing.TB, cn string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: cn},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		KeyUsage:    x509.KeyUsageDigitalSignature,
	}
	return sign(t, tmpl, tmpl, key, key), key
}

func sign(t testing.TB, tmpl, parent *x509.Certificate, key, parentKey *ecdsa.PrivateKey) *x509.Certificate {
	t.Helper()
	tmpl.SerialNumber = big.NewInt(serial.Add(1))
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = time.Now().Add(-time.Hour)
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = time.Now().Add(24 * time.Hour)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func pemOf(certs ...*x509.Certificate) string {
	var b strings.Builder
	for _, c := range certs {
		b.Write(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
	}
	return b.String()
}

// pathEscaped is the PEM percent-encoded as a path segment: '+' stays '+'.
func pathEscaped(certs ...*x509.Certificate) string { return url.PathEscape(pemOf(certs...)) }

// allEscaped percent-encodes every byte but letters and digits, the most a
// proxy may encode ('+' becomes %2B, '=' %3D).
func allEscaped(certs ...*x509.Certificate) string {
	const hexd = "0123456789ABCDEF"
	var b strings.Builder
	for _, c := range []byte(pemOf(certs...)) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(hexd[c>>4])
			b.WriteByte(hexd[c&15])
		}
	}
	return b.String()
}

func pkixName(cn string) *x509.Certificate {
	return &x509.Certificate{Subject: pkix.Name{CommonName: cn}}
}

// proxyAddr is the peer httptest.NewRequest gives a request; trustProxy
// trusts it and nothing else.
const proxyAddr = "192.0.2.1"

var trustProxy = TrustFunc(func(r *http.Request) bool {
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	return host == proxyAddr
})

func rsaPublic(t testing.TB) *rsa.PublicKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &k.PublicKey
}
