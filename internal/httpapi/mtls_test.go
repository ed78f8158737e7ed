package httpapi_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/url"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/internal/httpapi"
	"github.com/authd/authd/internal/mtls"
	"github.com/authd/authd/internal/oauth"
)

type testCert struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newCert(t *testing.T, cn string, parent *testCert, ca bool) *testCert {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"Example"}},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		KeyUsage:    x509.KeyUsageDigitalSignature,
	}
	if ca {
		tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.KeyUsage = true, true, x509.KeyUsageCertSign
	}
	signer, signKey := tmpl, key
	if parent != nil {
		signer, signKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signKey)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &testCert{cert: c, key: key}
}

// withTLS presents cert on the request's connection, as authd's own TLS
// listener (RequestClientCert) would record it.
func withTLS(c *testCert) reqOpt {
	return func(r *http.Request) {
		r.TLS = &tls.ConnectionState{HandshakeComplete: true, PeerCertificates: []*x509.Certificate{c.cert}}
	}
}

func withMTLS(roots *x509.CertPool) func(*harnessConfig) {
	return func(c *harnessConfig) {
		src, err := mtls.NewSource(mtls.SourceConfig{})
		if err != nil {
			panic(err)
		}
		c.api.ClientCerts = src
		c.deps.Certs = &mtls.Verifier{Roots: roots, Now: c.now}
	}
}

// TestMutualTLS: tls_client_auth (RFC 8705 §2.1) and
// self_signed_tls_client_auth (§2.2) at the token endpoint, and
// certificate-bound tokens (§3) that introspection shows with their
// x5t#S256.
func TestMutualTLS(t *testing.T) {
	ca := newCert(t, "Test CA", nil, true)
	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	h := newHarness(t, withMTLS(roots))
	app := newCert(t, "app", ca, false)
	intruder := newCert(t, "intruder", ca, false)
	self := newCert(t, "self", nil, false) // self-signed
	other := newCert(t, "other", nil, false)
	h.addClient("pki", "", func(c *oauth.Client) {
		c.TokenEndpointAuthMethod, c.SecretHash = oauth.AuthMethodTLS, nil
		c.Metadata.TLSClientAuthSubjectDN = "CN=app,O=Example"
		c.Metadata.TLSClientCertificateBoundAccessTokens = true
		c.AccessTokenFormat = oauth.FormatOpaque
	})
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &self.key.PublicKey, KeyID: "self"}}})
	h.addClient("selfsigned", "", func(c *oauth.Client) {
		c.TokenEndpointAuthMethod, c.SecretHash = oauth.AuthMethodSelfSignedTLS, nil
		c.Metadata.JWKS = jwks
	})
	h.addClient("bound-secret", "s3cret", func(c *oauth.Client) { c.Metadata.TLSClientCertificateBoundAccessTokens = true })

	cc := func(id string, opts ...reqOpt) (int, map[string]any) {
		w := h.postForm(httpapi.PathToken, url.Values{"grant_type": {"client_credentials"}, "client_id": {id}}, opts...)
		return w.Code, decodeJSON(t, w.Body.Bytes())
	}
	code, body := cc("pki", withTLS(app))
	if code != http.StatusOK || body["token_type"] != "Bearer" {
		t.Fatalf("tls_client_auth: %d %v", code, body)
	}
	sum := sha256.Sum256(app.cert.Raw)
	x5t := base64.RawURLEncoding.EncodeToString(sum[:])
	info := h.introspect("bound-secret", "s3cret", body["access_token"].(string))
	if cnf, _ := info["cnf"].(map[string]any); info["active"] != true || cnf["x5t#S256"] != x5t {
		t.Fatalf("introspection of a certificate-bound token: %v, want cnf x5t#S256 %s", info, x5t)
	}
	if code, _ := cc("selfsigned", withTLS(self)); code != http.StatusOK {
		t.Fatalf("self_signed_tls_client_auth: %d", code)
	}
	for _, tc := range []struct {
		name, id string
		opts     []reqOpt
	}{
		{"no certificate", "pki", nil},
		{"another subject from the same CA", "pki", []reqOpt{withTLS(intruder)}},
		{"a self-signed certificate with the right subject", "pki", []reqOpt{withTLS(newCert(t, "app", nil, false))}},
		{"a self-signed certificate of another key", "selfsigned", []reqOpt{withTLS(other)}},
		{"a secret as well", "pki", []reqOpt{withTLS(app), withBasic("pki", "x")}},
	} {
		if code, body := cc(tc.id, tc.opts...); code != http.StatusUnauthorized || body["error"] != "invalid_client" {
			t.Errorf("%s: %d %v", tc.name, code, body)
		}
	}
	// A client whose tokens must be certificate-bound needs a certificate,
	// whatever it authenticates with; with one, its JWT carries the binding.
	w := h.postForm(httpapi.PathToken, url.Values{"grant_type": {"client_credentials"}}, withBasic("bound-secret", "s3cret"))
	if w.Code != http.StatusBadRequest {
		t.Fatalf("certificate-bound client without a certificate: %d %s", w.Code, w.Body)
	}
	w = h.postForm(httpapi.PathToken, url.Values{"grant_type": {"client_credentials"}}, withBasic("bound-secret", "s3cret"), withTLS(other))
	tok := decodeJSON(t, w.Body.Bytes())["access_token"].(string)
	sum = sha256.Sum256(other.cert.Raw)
	if cnf, _ := h.introspect("bound-secret", "s3cret", tok)["cnf"].(map[string]any); cnf["x5t#S256"] != base64.RawURLEncoding.EncodeToString(sum[:]) {
		t.Fatalf("JWT bound to the certificate: cnf %v", cnf)
	}
	disc := decodeJSON(t, h.do(http.MethodGet, "/.well-known/oauth-authorization-server", "", "").Body.Bytes())
	if disc["tls_client_certificate_bound_access_tokens"] != true {
		t.Fatalf("metadata does not advertise certificate-bound tokens: %v", disc)
	}
	if aliases, _ := disc["mtls_endpoint_aliases"].(map[string]any); aliases["token_endpoint"] != issuer+httpapi.PathToken {
		t.Fatalf("mtls_endpoint_aliases: %v", disc["mtls_endpoint_aliases"])
	}
}
