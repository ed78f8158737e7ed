package mtls

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Parsers of what a proxy (or, misconfigured, anyone) sends: none may panic,
// and every failure is one of the package's errors.

func FuzzXFCC(f *testing.F) {
	c, _ := selfSigned(f, "fuzz")
	f.Add(`By=spiffe://p;Hash=ab;Cert="` + pathEscaped(c) + `";Subject="CN=a,O=b";URI=spiffe://c;DNS=a;DNS=b`)
	f.Add(`Cert=x,By=y;Chain="` + pathEscaped(c, c) + `"`)
	f.Add(`Subject="a\"b;c,d=e"`)
	f.Add(`Subject=x";Cert=legit;URI=";Cert=forged`)
	f.Add(`,;="\`)
	src, err := NewSource(SourceConfig{Header: HeaderXFCC, Trust: trustProxy})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, v string) {
		n := 0
		err := parseXFCC(v, func(xfccElement) bool { n++; return true })
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("parseXFCC: %v", err)
		}
		if err == nil && n == 0 {
			t.Fatal("no element and no error")
		}
		r := httptest.NewRequest("POST", "/", nil)
		r.Header.Set(HeaderXFCC, v)
		checkSourceResult(t, src, r)
	})
}

func FuzzEscapedPEM(f *testing.F) {
	c, _ := selfSigned(f, "fuzz")
	f.Add(pathEscaped(c))
	f.Add(allEscaped(c, c))
	f.Add("-----BEGIN%20CERTIFICATE-----%0A%0A-----END%20CERTIFICATE-----")
	f.Add("%")
	src, err := NewSource(SourceConfig{Header: "X-Client-Cert", Trust: trustProxy})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, v string) {
		certs, err := parseEscapedPEM(v)
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("parseEscapedPEM: %v", err)
		}
		if err == nil && (len(certs) == 0 || len(certs) > maxChain) {
			t.Fatalf("%d certificates", len(certs))
		}
		r := httptest.NewRequest("POST", "/", nil)
		r.Header.Set("X-Client-Cert", v)
		checkSourceResult(t, src, r)
	})
}

// checkSourceResult: a header either yields a certificate or one of the two
// errors a header may cause.
func checkSourceResult(t *testing.T, src *Source, r *http.Request) {
	c, err := src.Certificate(r)
	switch {
	case err == nil:
		if c.Leaf == nil || !c.FromProxy || len(c.Intermediates) >= maxChain {
			t.Fatalf("certificate %+v", c)
		}
	case errors.Is(err, ErrNoCertificate), errors.Is(err, ErrMalformed):
	default:
		t.Fatalf("Certificate: %v", err)
	}
}

func FuzzDN(f *testing.F) {
	for _, s := range []string{
		"CN=client,O=Example,C=US", `O=Example\, Inc.+OU=x`, "2.5.4.3=#0C0161", `CN=\C3\A9`, " cn = a ", "CN=a;b", "=", `\`, "#",
	} {
		f.Add(s)
	}
	root := newCA(f, "root")
	cert, _ := root.issue(f, pkixName("client"))
	certDN, err := subjectDN(cert.RawSubject)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDN(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "distinguished name: ") {
				t.Fatalf("error %v", err)
			}
			return
		}
		// A DN matches itself, and matching never panics.
		if !matchDN(d, d) {
			t.Fatalf("%q does not match itself", s)
		}
		if matchDN(d, certDN) != matchDN(certDN, d) {
			t.Fatalf("%q: match is not symmetric", s)
		}
		// Validation takes what parses, unless empty or too long.
		m := Metadata{SubjectDN: s}
		if err := m.Validate(MethodTLSClientAuth, nil, ""); err != nil && len(d) != 0 && len(s) <= maxSubjectValue {
			t.Fatalf("%q parses but does not validate: %v", s, err)
		}
	})
}

func FuzzRFC9440(f *testing.F) {
	c, _ := selfSigned(f, "fuzz")
	sf := ":" + base64.StdEncoding.EncodeToString(c.Raw) + ":"
	f.Add(sf, sf+", "+sf)
	f.Add("::", ":")
	f.Add(":AAAA", ",,")
	src, err := NewSource(SourceConfig{Header: HeaderClientCert, Trust: trustProxy})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, leaf, chain string) {
		r := httptest.NewRequest("POST", "/", nil)
		r.Header.Set(HeaderClientCert, leaf)
		r.Header.Set(HeaderClientCertChain, chain)
		checkSourceResult(t, src, r)
	})
}
