package mtls

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/internal/oauth"
)

// What the test server reports of each request: the certificate it found and
// what each method made of it.
type seen struct {
	X5T        string `json:"x5t"`
	Verified   bool   `json:"verified"`
	Error      string `json:"error"`
	PKI        string `json:"pki"`         // TLSClientAuth with Roots nil
	PKIRoots   string `json:"pki_roots"`   // TLSClientAuth with Roots
	SelfSigned string `json:"self_signed"` // SelfSigned
}

func errString(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// tlsServer is authd terminating TLS itself, asking for client certificates
// as auth (VerifyClientCertIfGiven with the CA pool, or RequestClientCert).
// It also trusts proxies' XFCC headers, but no loopback peer is one.
func tlsServer(t *testing.T, auth tls.ClientAuthType, root *ca, m Metadata, keys *jose.JSONWebKeySet) *httptest.Server {
	t.Helper()
	src, err := NewSource(SourceConfig{Header: HeaderXFCC, Trust: trustProxy, ProxyVerified: true})
	if err != nil {
		t.Fatal(err)
	}
	upstream, pinned := &Verifier{}, &Verifier{Roots: root.pool}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var s seen
		c, err := src.Certificate(r)
		if err != nil {
			e, _ := oauth.As(err)
			w.WriteHeader(e.Status)
			s.Error = errString(err)
		} else {
			s.X5T, s.Verified = c.Thumbprint(), c.Verified
			s.PKI = errString(upstream.TLSClientAuth(c, m))
			s.PKIRoots = errString(pinned.TLSClientAuth(c, m))
			s.SelfSigned = errString(upstream.SelfSigned(c, keys))
		}
		_ = json.NewEncoder(w).Encode(s)
	}))
	srv.TLS = &tls.Config{ClientAuth: auth, ClientCAs: root.pool, MinVersion: tls.VersionTLS12}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// call makes one request over a fresh connection, presenting cert if any.
func call(t *testing.T, srv *httptest.Server, cert *x509.Certificate, key *ecdsa.PrivateKey, header string) (int, seen, error) {
	t.Helper()
	tr := srv.Client().Transport.(*http.Transport).Clone()
	if cert != nil {
		// Presented whatever CAs the server names, as curl and most
		// clients do; Go's Certificates would skip one the server's
		// CertificateRequest does not list.
		tc := &tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}
		tr.TLSClientConfig.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return tc, nil }
	}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequest("POST", srv.URL+"/token", nil)
	if err != nil {
		t.Fatal(err)
	}
	if header != "" {
		req.Header.Set(HeaderXFCC, header)
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return 0, seen{}, err
	}
	defer resp.Body.Close()
	var s seen
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		return 0, seen{}, err
	}
	return resp.StatusCode, s, nil
}

func x5t(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func TestEndToEndVerifyClientCertIfGiven(t *testing.T) {
	root := newCA(t, "root")
	client, key := root.issue(t, pkixName("client-1"))
	stranger := newCA(t, "stranger")
	strangerCert, strangerKey := stranger.issue(t, pkixName("client-1"))
	forged, _ := selfSigned(t, "forged")
	srv := tlsServer(t, tls.VerifyClientCertIfGiven, root, Metadata{SubjectDN: "CN=client-1"}, nil)

	t.Run("certificate presented", func(t *testing.T) {
		status, s, err := call(t, srv, client, key, "")
		if err != nil {
			t.Fatal(err)
		}
		if status != 200 || s.X5T != x5t(client) || s.X5T != Thumbprint(client) || !s.Verified {
			t.Fatalf("status %d, %+v; want x5t %s", status, s, x5t(client))
		}
		if s.PKI != "ok" || s.PKIRoots != "ok" {
			t.Fatalf("tls_client_auth: %+v", s)
		}
		if s.SelfSigned == "ok" {
			t.Fatal("self-signed method passed with no registered keys")
		}
	})
	t.Run("no certificate", func(t *testing.T) {
		status, s, err := call(t, srv, nil, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		if status != http.StatusUnauthorized || s.X5T != "" || s.Error != ErrNoCertificate.Error() {
			t.Fatalf("status %d, %+v", status, s)
		}
	})
	t.Run("a header from the client is not believed", func(t *testing.T) {
		status, s, err := call(t, srv, client, key, `Cert="`+pathEscaped(forged)+`"`)
		if err != nil {
			t.Fatal(err)
		}
		if status != 200 || s.X5T != x5t(client) {
			t.Fatalf("status %d, %+v: the forged header was read", status, s)
		}
		status, s, err = call(t, srv, nil, nil, `Cert="`+pathEscaped(forged)+`"`)
		if err != nil {
			t.Fatal(err)
		}
		if status != http.StatusUnauthorized || s.X5T != "" {
			t.Fatalf("status %d, %+v: the forged header was read", status, s)
		}
	})
	t.Run("certificate of another CA is refused in the handshake", func(t *testing.T) {
		if _, _, err := call(t, srv, strangerCert, strangerKey, ""); err == nil {
			t.Fatal("handshake accepted a certificate of an unknown CA")
		}
	})
}

// RequestClientCert lets self-signed clients connect; Go verifies nothing,
// so the PKI method needs Verifier.Roots.
func TestEndToEndRequestClientCert(t *testing.T) {
	root := newCA(t, "root")
	pkiCert, pkiKey := root.issue(t, pkixName("client-1"))
	ssCert, ssKey := selfSigned(t, "client-1")
	keys := &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &ssKey.PublicKey, Use: "sig", Certificates: []*x509.Certificate{ssCert}}}}
	srv := tlsServer(t, tls.RequestClientCert, root, Metadata{SubjectDN: "CN=client-1"}, keys)

	status, s, err := call(t, srv, ssCert, ssKey, "")
	if err != nil {
		t.Fatal(err)
	}
	if status != 200 || s.X5T != x5t(ssCert) || s.Verified {
		t.Fatalf("self-signed: status %d, %+v", status, s)
	}
	if s.SelfSigned != "ok" {
		t.Fatalf("self_signed_tls_client_auth: %s", s.SelfSigned)
	}
	if s.PKI == "ok" || s.PKIRoots == "ok" {
		t.Fatalf("tls_client_auth passed with a self-signed certificate: %+v", s)
	}

	status, s, err = call(t, srv, pkiCert, pkiKey, "")
	if err != nil {
		t.Fatal(err)
	}
	if status != 200 || s.X5T != x5t(pkiCert) || s.Verified {
		t.Fatalf("PKI: status %d, %+v", status, s)
	}
	if s.PKIRoots != "ok" || s.PKI == "ok" || s.SelfSigned == "ok" {
		t.Fatalf("PKI over RequestClientCert: %+v", s)
	}
}

// Behind a proxy: plain HTTP from a trusted loopback peer, the certificate
// in the XFCC header the proxy wrote.
func TestEndToEndTrustedProxy(t *testing.T) {
	root := newCA(t, "root")
	client, _ := root.issue(t, pkixName("client-1"))
	loopback := TrustFunc(func(r *http.Request) bool {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		return err == nil && net.ParseIP(host).IsLoopback()
	})
	src, err := NewSource(SourceConfig{Header: HeaderXFCC, Trust: loopback, ProxyVerified: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := src.Certificate(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		if err := (&Verifier{}).TLSClientAuth(c, Metadata{SubjectDN: "CN=client-1"}); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, c.Thumbprint())
	}))
	defer srv.Close()
	req, _ := http.NewRequest("POST", srv.URL, nil)
	req.Header.Set(HeaderXFCC, `By=spiffe://proxy;Cert="`+pathEscaped(client)+`"`)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != x5t(client) {
		t.Fatalf("status %d, %s", resp.StatusCode, body)
	}
}
