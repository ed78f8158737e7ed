package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

type pemCert struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// issueCert makes a certificate for cn signed by parent (self-signed when
// nil); server certificates name 127.0.0.1.
func issueCert(t *testing.T, cn string, parent *pemCert, ca, server bool) *pemCert {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"Example"}},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if ca {
		tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.KeyUsage, tmpl.ExtKeyUsage = true, true, x509.KeyUsageCertSign, nil
	}
	if server {
		tmpl.ExtKeyUsage, tmpl.IPAddresses = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, []net.IP{net.ParseIP("127.0.0.1")}
	}
	signer, signKey := tmpl, crypto.Signer(key)
	if parent != nil {
		signer, signKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signKey)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &pemCert{cert: c, key: key}
}

func writePEM(t *testing.T, dir, name string, c *pemCert, withKey bool) (certFile, keyFile string) {
	t.Helper()
	certFile = filepath.Join(dir, name+".crt")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	if withKey {
		der, _ := x509.MarshalPKCS8PrivateKey(c.key)
		keyFile = filepath.Join(dir, name+".key")
		if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return certFile, keyFile
}

// TestMutualTLSEndToEnd: authd terminates TLS itself; a client registered
// for tls_client_auth gets certificate-bound tokens over a connection made
// with Go's crypto/tls and its certificate (RFC 8705); introspection shows
// the binding; without the certificate, or with another, it gets nothing.
func TestMutualTLSEndToEnd(t *testing.T) {
	dir := t.TempDir()
	ca := issueCert(t, "Client CA", nil, true, false)
	caFile, _ := writePEM(t, dir, "ca", ca, false)
	srv := issueCert(t, "authd", nil, false, true)
	srvCert, srvKey := writePEM(t, dir, "server", srv, true)
	s := startServer(t, map[string]string{"AUTHD_TLS_CERT_FILE": srvCert, "AUTHD_TLS_KEY_FILE": srvKey, "AUTHD_TLS_CLIENT_CA_FILE": caFile})
	if !strings.HasPrefix(s.public, "https://") {
		t.Fatalf("public URL %s is not https", s.public)
	}
	roots := x509.NewCertPool()
	roots.AddCert(srv.cert)
	client := func(c *pemCert) *http.Client {
		cfg := &tls.Config{RootCAs: roots}
		if c != nil {
			cfg.Certificates = []tls.Certificate{{Certificate: [][]byte{c.cert.Raw}, PrivateKey: c.key, Leaf: c.cert}}
		}
		return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 10 * time.Second}
	}
	app := issueCert(t, "app", ca, false, false)
	var created map[string]any
	body, _ := json.Marshal(map[string]any{"client_name": "mtls", "grant_types": []string{"client_credentials"},
		"token_endpoint_auth_method": "tls_client_auth", "tls_client_auth_subject_dn": "CN=app,O=Example",
		"tls_client_certificate_bound_access_tokens": true})
	req, _ := http.NewRequest(http.MethodPost, s.admin+"/admin/clients", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+adminTokenOf(t, s))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	id, _ := created["client_id"].(string)
	if resp.StatusCode != 201 || id == "" || created["client_secret"] != nil {
		t.Fatalf("register tls_client_auth client: %d %v", resp.StatusCode, created)
	}
	tokenReq := func(c *http.Client) (int, map[string]any) {
		resp, err := c.PostForm(s.public+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {id}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	code, tok := tokenReq(client(app))
	if code != 200 || tok["token_type"] != "Bearer" {
		t.Fatalf("token over mutual TLS: %d %v", code, tok)
	}
	for name, c := range map[string]*http.Client{"no certificate": client(nil), "another subject": client(issueCert(t, "intruder", ca, false, false)),
		"self-signed with the subject": client(issueCert(t, "app", nil, false, false))} {
		if code, m := tokenReq(c); code != 401 || m["error"] != "invalid_client" {
			t.Errorf("%s: %d %v", name, code, m)
		}
	}
	// A resource server introspects and compares the binding with the
	// certificate its caller presented.
	var rsc map[string]any
	if err := json.Unmarshal(s.cli(t, "client", "create", "--name", "rs"), &rsc); err != nil {
		t.Fatal(err)
	}
	ireq, _ := http.NewRequest(http.MethodPost, s.public+"/oauth2/introspect", strings.NewReader(url.Values{"token": {tok["access_token"].(string)}}.Encode()))
	ireq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	ireq.SetBasicAuth(rsc["client_id"].(string), rsc["client_secret"].(string))
	resp, err = client(nil).Do(ireq)
	if err != nil {
		t.Fatal(err)
	}
	var info map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&info)
	resp.Body.Close()
	sum := sha256.Sum256(app.cert.Raw)
	if cnf, _ := info["cnf"].(map[string]any); info["active"] != true || cnf["x5t#S256"] != base64.RawURLEncoding.EncodeToString(sum[:]) {
		t.Fatalf("introspection %v, want cnf x5t#S256 of the client certificate", info)
	}
	var disc map[string]any
	resp, err = client(nil).Get(s.public + "/.well-known/oauth-authorization-server")
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(resp.Body).Decode(&disc)
	resp.Body.Close()
	if disc["issuer"] != s.public || disc["tls_client_certificate_bound_access_tokens"] != true {
		t.Fatalf("metadata over TLS: %v", disc)
	}
}

func adminTokenOf(t *testing.T, s *server) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.env["AUTHD_DATA_DIR"], "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// TestWorkloadIdentityFederation: a client with no key of its own
// authenticates with a Kubernetes-style service-account token from a
// trusted issuer (its keys from the issuer's discovery document, fetched
// over TLS through the outbound fetcher); a token for another service
// account or from another issuer is refused; the same workload token works
// again (it is reused for its lifetime, so its jti is not single-use).
func TestWorkloadIdentityFederation(t *testing.T) {
	k8sKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	var issuerURL string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": issuerURL, "jwks_uri": issuerURL + "/openid/v1/jwks"})
	})
	mux.HandleFunc("GET /openid/v1/jwks", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k8sKey.PublicKey, KeyID: "sa-1", Algorithm: "RS256", Use: "sig"}}})
	})
	k8s := httptest.NewTLSServer(mux)
	defer k8s.Close()
	issuerURL = k8s.URL
	caFile := filepath.Join(t.TempDir(), "k8s-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k8s.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, map[string]string{"AUTHD_OUTBOUND_ALLOW_LOOPBACK": "true", "AUTHD_OUTBOUND_CA_FILE": caFile})

	body, _ := json.Marshal(map[string]any{"client_name": "payments", "grant_types": []string{"client_credentials"},
		"token_endpoint_auth_method": "private_key_jwt",
		"federated_credentials":      []map[string]any{{"issuer": issuerURL, "subject": "system:serviceaccount:payments:api"}}})
	req, _ := http.NewRequest(http.MethodPost, s.admin+"/admin/clients", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+adminTokenOf(t, s))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var created map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	id, _ := created["client_id"].(string)
	if resp.StatusCode != 201 || id == "" {
		t.Fatalf("register federated client: %d %v", resp.StatusCode, created)
	}
	issuerOf := func() string {
		resp, err := http.Get(s.public + "/.well-known/oauth-authorization-server")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return m["issuer"].(string)
	}
	authdIssuer := issuerOf()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: k8sKey}, (&jose.SignerOptions{}).WithHeader("kid", "sa-1").WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	// The shape of a projected service-account token.
	saToken := func(iss, sub string) string {
		now := time.Now()
		b, _ := json.Marshal(map[string]any{"iss": iss, "sub": sub, "aud": []string{authdIssuer}, "iat": now.Unix(), "nbf": now.Unix(),
			"exp": now.Add(10 * time.Minute).Unix(), "kubernetes.io": map[string]any{"namespace": "payments", "serviceaccount": map[string]any{"name": "api"}}})
		jws, err := signer.Sign(b)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := jws.CompactSerialize()
		return out
	}
	grant := func(assertion string) (int, map[string]any) {
		resp, err := http.PostForm(s.public+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {id},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	good := saToken(issuerURL, "system:serviceaccount:payments:api")
	for i := range 2 { // reused within its lifetime, as kubelets do
		if code, m := grant(good); code != 200 || m["access_token"] == nil {
			t.Fatalf("workload token, use %d: %d %v", i+1, code, m)
		}
	}
	for name, a := range map[string]string{
		"another service account": saToken(issuerURL, "system:serviceaccount:payments:other"),
		"another issuer":          saToken("https://evil.example", "system:serviceaccount:payments:api"),
	} {
		if code, m := grant(a); code != 401 || m["error"] != "invalid_client" {
			t.Errorf("%s: %d %v", name, code, m)
		}
	}
}
