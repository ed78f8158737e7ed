package mtls

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

func TestMetadataValidate(t *testing.T) {
	_, key := selfSigned(t, "client")
	pub := &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, Use: "sig"}}}
	priv := &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key}}}
	encOnly := &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, Use: "enc"}}}
	const tls, self = MethodTLSClientAuth, MethodSelfSignedTLSClientAuth
	tests := []struct {
		name      string
		method    string
		m         Metadata
		keys      *jose.JSONWebKeySet
		jwksURI   string
		wantField string // "" for valid
	}{
		{"DN", tls, Metadata{SubjectDN: "CN=client,O=Example"}, nil, "", ""},
		{"DNS", tls, Metadata{SANDNS: "client.example.com"}, nil, "", ""},
		{"DNS wildcard", tls, Metadata{SANDNS: "*.example.com"}, nil, "", ""},
		{"URI", tls, Metadata{SANURI: "spiffe://example.org/ns/prod/sa/client"}, nil, "", ""},
		{"IPv4", tls, Metadata{SANIP: "192.0.2.1"}, nil, "", ""},
		{"IPv6", tls, Metadata{SANIP: "2001:db8::1"}, nil, "", ""},
		{"email", tls, Metadata{SANEmail: "client@example.com"}, nil, "", ""},
		{"binding with tls_client_auth", tls, Metadata{SANDNS: "a.example", CertificateBoundAccessTokens: true}, nil, "", ""},
		{"none of the five", tls, Metadata{}, nil, "", "tls_client_auth_subject_dn"},
		{"two of the five", tls, Metadata{SubjectDN: "CN=a", SANDNS: "a.example"}, nil, "", "tls_client_auth_subject_dn"},
		{"all five", tls, Metadata{SubjectDN: "CN=a", SANDNS: "a", SANURI: "a:b", SANIP: "1.2.3.4", SANEmail: "a@b"}, nil, "", "tls_client_auth_subject_dn"},
		{"DN does not parse", tls, Metadata{SubjectDN: "CN=a;O=b"}, nil, "", "tls_client_auth_subject_dn"},
		{"DN of spaces is empty", tls, Metadata{SubjectDN: "   "}, nil, "", "tls_client_auth_subject_dn"},
		{"DNS with a space", tls, Metadata{SANDNS: "client example"}, nil, "", "tls_client_auth_san_dns"},
		{"DNS U-label", tls, Metadata{SANDNS: "bücher.example"}, nil, "", "tls_client_auth_san_dns"},
		{"DNS empty label", tls, Metadata{SANDNS: "a..example"}, nil, "", "tls_client_auth_san_dns"},
		{"DNS wildcard inside", tls, Metadata{SANDNS: "a.*.example"}, nil, "", "tls_client_auth_san_dns"},
		{"URI relative", tls, Metadata{SANURI: "/ns/prod"}, nil, "", "tls_client_auth_san_uri"},
		{"URI with a space", tls, Metadata{SANURI: "spiffe://a/b c"}, nil, "", "tls_client_auth_san_uri"},
		{"IP with zone", tls, Metadata{SANIP: "fe80::1%eth0"}, nil, "", "tls_client_auth_san_ip"},
		{"IP not an address", tls, Metadata{SANIP: "192.0.2.0/24"}, nil, "", "tls_client_auth_san_ip"},
		{"email with a name", tls, Metadata{SANEmail: "Client <client@example.com>"}, nil, "", "tls_client_auth_san_email"},
		{"email without @", tls, Metadata{SANEmail: "client"}, nil, "", "tls_client_auth_san_email"},
		{"too long", tls, Metadata{SANURI: "https://a/" + strings.Repeat("a", 2000)}, nil, "", "tls_client_auth_san_uri"},

		{"self-signed with jwks", self, Metadata{}, pub, "", ""},
		{"self-signed with jwks_uri", self, Metadata{CertificateBoundAccessTokens: true}, nil, "https://client.example/jwks.json", ""},
		{"self-signed with both", self, Metadata{}, pub, "https://client.example/jwks.json", "jwks"},
		{"self-signed with neither", self, Metadata{}, nil, "", "jwks"},
		{"self-signed with an http jwks_uri", self, Metadata{}, nil, "http://client.example/jwks.json", "jwks_uri"},
		{"self-signed with a private key", self, Metadata{}, priv, "", "jwks"},
		{"self-signed with encryption keys only", self, Metadata{}, encOnly, "", "jwks"},
		{"self-signed with an empty jwks", self, Metadata{}, &jose.JSONWebKeySet{}, "", "jwks"},
		{"self-signed with a subject", self, Metadata{SANDNS: "a.example"}, pub, "", "tls_client_auth_subject_dn"},

		{"secret client binding its tokens", "client_secret_basic", Metadata{CertificateBoundAccessTokens: true}, nil, "", ""},
		{"public client binding its tokens (RFC 8705 §4)", "none", Metadata{CertificateBoundAccessTokens: true}, nil, "", ""},
		{"secret client with a subject", "client_secret_basic", Metadata{SubjectDN: "CN=a"}, nil, "", "tls_client_auth_subject_dn"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.m.Validate(tc.method, tc.keys, tc.jwksURI)
			if tc.wantField == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var im *InvalidMetadata
			if !errors.As(err, &im) || im.Field != tc.wantField || im.Reason == "" {
				t.Fatalf("err = %v, want InvalidMetadata for %s", err, tc.wantField)
			}
		})
	}
}

// The member names are RFC 8705's, and the binding flag is a JSON boolean.
func TestMetadataJSON(t *testing.T) {
	in := `{"tls_client_auth_subject_dn":"CN=a","tls_client_auth_san_dns":"d","tls_client_auth_san_uri":"u:x","tls_client_auth_san_ip":"1.2.3.4","tls_client_auth_san_email":"e@x","tls_client_certificate_bound_access_tokens":true}`
	var m Metadata
	if err := json.Unmarshal([]byte(in), &m); err != nil {
		t.Fatal(err)
	}
	want := Metadata{SubjectDN: "CN=a", SANDNS: "d", SANURI: "u:x", SANIP: "1.2.3.4", SANEmail: "e@x", CertificateBoundAccessTokens: true}
	if m != want {
		t.Fatalf("decoded %+v", m)
	}
	out, err := json.Marshal(m)
	if err != nil || string(out) != in {
		t.Fatalf("encoded %s, %v", out, err)
	}
	if err := json.Unmarshal([]byte(`{"tls_client_certificate_bound_access_tokens":"true"}`), &m); err == nil {
		t.Fatal("a string accepted for the boolean")
	}
	if b, _ := json.Marshal(Metadata{}); string(b) != `{}` {
		t.Fatalf("empty metadata encodes as %s", b)
	}
}

func TestValidateEndpointAliases(t *testing.T) {
	tests := []struct {
		name    string
		aliases map[string]string
		wantErr bool
	}{
		{"none", nil, false},
		{"token, revocation, introspection", map[string]string{
			"token_endpoint":         "https://mtls.auth.example/token",
			"revocation_endpoint":    "https://mtls.auth.example/revoke",
			"introspection_endpoint": "https://mtls.auth.example/introspect",
		}, false},
		{"pushed authorization requests", map[string]string{"pushed_authorization_request_endpoint": "https://mtls.auth.example/par"}, false},
		{"not an endpoint", map[string]string{"issuer": "https://mtls.auth.example"}, true},
		{"upper case name", map[string]string{"Token_endpoint": "https://mtls.auth.example/token"}, true},
		{"http", map[string]string{"token_endpoint": "http://mtls.auth.example/token"}, true},
		{"relative", map[string]string{"token_endpoint": "/token"}, true},
		{"fragment", map[string]string{"token_endpoint": "https://mtls.auth.example/token#x"}, true},
		{"userinfo in the URL", map[string]string{"token_endpoint": "https://u:p@mtls.auth.example/token"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateEndpointAliases(tc.aliases)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
		})
	}
}
