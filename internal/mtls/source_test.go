package mtls

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/authd/authd/internal/fault"
	"github.com/authd/authd/internal/oauth"
)

func TestSourceTrust(t *testing.T) {
	root := newCA(t, "root")
	client, _ := root.issue(t, pkixName("client"))
	proxyCert, _ := root.issue(t, pkixName("proxy"))
	forged, _ := selfSigned(t, "forged")

	src, err := NewSource(SourceConfig{Header: HeaderXFCC, Trust: trustProxy, ProxyVerified: true})
	if err != nil {
		t.Fatal(err)
	}
	tlsOnly, err := NewSource(SourceConfig{})
	if err != nil {
		t.Fatal(err)
	}
	conn := func(c *x509.Certificate, verified bool) *tls.ConnectionState {
		s := &tls.ConnectionState{PeerCertificates: []*x509.Certificate{c}}
		if verified {
			s.VerifiedChains = [][]*x509.Certificate{{c, root.cert}}
		}
		return s
	}
	tests := []struct {
		name         string
		src          *Source
		remote       string
		header       string
		tls          *tls.ConnectionState
		wantCN       string
		wantVerified bool
		wantProxy    bool
		wantErr      error
	}{
		{"trusted proxy's header", src, proxyAddr + ":4000", `Cert="` + pathEscaped(client) + `"`, nil, "client", true, true, nil},
		{"untrusted peer's header ignored", src, "203.0.113.7:4000", `Cert="` + pathEscaped(forged) + `"`, nil, "", false, false, ErrNoCertificate},
		{"untrusted peer's malformed header ignored, no error", src, "203.0.113.7:4000", `Cert="broken`, nil, "", false, false, ErrNoCertificate},
		{"untrusted peer: its TLS certificate, not its header", src, "203.0.113.7:4000", `Cert="` + pathEscaped(forged) + `"`, conn(client, true), "client", true, false, nil},
		{"trusted proxy without header: its own TLS certificate is not the client's", src, proxyAddr + ":4000", "", conn(proxyCert, true), "", false, false, ErrNoCertificate},
		{"trusted proxy's header wins over its TLS certificate", src, proxyAddr + ":4000", `Cert="` + pathEscaped(client) + `"`, conn(proxyCert, true), "client", true, true, nil},
		{"TLS only: header never read", tlsOnly, proxyAddr + ":4000", `Cert="` + pathEscaped(forged) + `"`, nil, "", false, false, ErrNoCertificate},
		{"TLS only: verified handshake", tlsOnly, "203.0.113.7:4000", "", conn(client, true), "client", true, false, nil},
		{"TLS only: requested, not verified", tlsOnly, "203.0.113.7:4000", "", conn(forged, false), "forged", false, false, nil},
		{"TLS without a client certificate", tlsOnly, "203.0.113.7:4000", "", &tls.ConnectionState{}, "", false, false, ErrNoCertificate},
		{"plain HTTP", tlsOnly, "203.0.113.7:4000", "", nil, "", false, false, ErrNoCertificate},
		{"trusted proxy's malformed header", src, proxyAddr + ":4000", `Cert="broken`, nil, "", false, false, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/token", nil)
			r.RemoteAddr = tc.remote
			r.TLS = tc.tls
			if tc.header != "" {
				r.Header.Set(HeaderXFCC, tc.header)
			}
			got, err := tc.src.Certificate(r)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || got != nil {
					t.Fatalf("got %v, %v; want %v", got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Leaf.Subject.CommonName != tc.wantCN || got.Verified != tc.wantVerified || got.FromProxy != tc.wantProxy {
				t.Fatalf("got %q verified=%v proxy=%v", got.Leaf.Subject.CommonName, got.Verified, got.FromProxy)
			}
		})
	}
}

func TestNewSource(t *testing.T) {
	tests := []struct {
		name    string
		cfg     SourceConfig
		wantErr bool
	}{
		{"TLS only", SourceConfig{}, false},
		{"header with trust", SourceConfig{Header: "X-Client-Cert", Trust: trustProxy}, false},
		{"header without trust", SourceConfig{Header: "X-Client-Cert"}, true},
		{"not a header name", SourceConfig{Header: "X Client Cert", Trust: trustProxy}, true},
		{"the chain header alone", SourceConfig{Header: "client-cert-chain", Trust: trustProxy}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewSource(tc.cfg)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
		})
	}
}

// Every failure is the same invalid_client to the caller, yet each is
// distinct to errors.Is.
func TestErrors(t *testing.T) {
	all := []error{ErrNoCertificate, ErrMalformed, ErrUntrusted, ErrMismatch}
	for i, sentinel := range all {
		err := error(fail(sentinel.(*Error).kind, "some detail"))
		if i == 0 {
			err = ErrNoCertificate
		}
		t.Run(err.Error(), func(t *testing.T) {
			for j, other := range all {
				if errors.Is(err, other) != (i == j) {
					t.Errorf("errors.Is(%v, %v) = %v", err, other, i != j)
				}
			}
			e, ok := oauth.As(err)
			if !ok || e.Code != oauth.CodeInvalidClient || e.Status != http.StatusUnauthorized || e.Description != "client authentication failed" {
				t.Fatalf("oauth error = %+v, %v", e, ok)
			}
			c := fault.Classify(context.Background(), err)
			if c.Kind != fault.Protocol || c.OAuth.Code != oauth.CodeInvalidClient {
				t.Fatalf("Classify = %+v", c)
			}
		})
	}
	// A caller that changes what it got does not change the next error.
	e, _ := oauth.As(ErrMismatch)
	e.Description = "changed"
	if e2, _ := oauth.As(ErrMismatch); e2.Description != "client authentication failed" {
		t.Fatal("the unwrapped error is shared")
	}
}
