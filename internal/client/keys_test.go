package client_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/internal/client"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/testenv/dbtest"
)

func jwksOf(t *testing.T, keys ...jose.JSONWebKey) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newKeyService(t testing.TB, seal bool) *client.Service {
	opts := client.Options{
		Grants:      []string{oauth.GrantClientCredentials, oauth.GrantAuthorizationCode},
		MaxTokenTTL: time.Hour,
	}
	if seal {
		opts.Seal = func(_ string, b []byte) ([]byte, error) { return append([]byte("sealed:"), b...), nil }
	}
	return client.New(dbtest.SQLite(t), opts)
}

// TestKeyMetadata: how a client proves itself without a shared secret is
// validated once, against its token_endpoint_auth_method (RFC 7591 §2,
// RFC 7523 §2.2, RFC 8705 §2).
func TestKeyMetadata(t *testing.T) {
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	edPub, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	pubEC := jose.JSONWebKey{Key: &ecKey.PublicKey, KeyID: "ec", Algorithm: "ES256", Use: "sig"}
	pubEd := jose.JSONWebKey{Key: edPub, KeyID: "ed", Algorithm: "EdDSA"}
	private := jose.JSONWebKey{Key: edPriv, KeyID: "leak", Algorithm: "EdDSA"}
	symmetric := jose.JSONWebKey{Key: []byte("0123456789abcdef0123456789abcdef"), KeyID: "hs", Algorithm: "HS256"}
	encKey := jose.JSONWebKey{Key: &ecKey.PublicKey, KeyID: "enc", Use: "enc"}
	k8s := oauth.FederatedCredential{Issuer: "https://kubernetes.default.svc.cluster.local", Subject: "system:serviceaccount:ns:app"}
	pkj := oauth.AuthMethodPrivateKeyJWT

	tests := []struct {
		name      string
		m         client.Metadata
		wantField string // "" means accepted
	}{
		{"private_key_jwt with jwks", client.Metadata{TokenEndpointAuthMethod: pkj,
			ClientMetadata: oauth.ClientMetadata{JWKS: jwksOf(t, pubEC, pubEd)}}, ""},
		{"private_key_jwt with jwks_uri", client.Metadata{TokenEndpointAuthMethod: pkj,
			ClientMetadata: oauth.ClientMetadata{JWKSURI: "https://app.example/jwks.json"}}, ""},
		{"private_key_jwt with a federated credential only", client.Metadata{TokenEndpointAuthMethod: pkj,
			ClientMetadata: oauth.ClientMetadata{FederatedCredentials: []oauth.FederatedCredential{k8s}}}, ""},
		{"private_key_jwt without keys", client.Metadata{TokenEndpointAuthMethod: pkj}, "jwks"},
		// RFC 7591 §2: jwks and jwks_uri MUST NOT both be present.
		{"jwks and jwks_uri", client.Metadata{TokenEndpointAuthMethod: pkj, ClientMetadata: oauth.ClientMetadata{
			JWKS: jwksOf(t, pubEC), JWKSURI: "https://app.example/jwks.json"}}, "jwks"},
		{"a private key in jwks", client.Metadata{TokenEndpointAuthMethod: pkj,
			ClientMetadata: oauth.ClientMetadata{JWKS: jwksOf(t, private)}}, "jwks"},
		{"a symmetric key in jwks", client.Metadata{TokenEndpointAuthMethod: pkj,
			ClientMetadata: oauth.ClientMetadata{JWKS: jwksOf(t, symmetric)}}, "jwks"},
		{"an encryption key in jwks", client.Metadata{TokenEndpointAuthMethod: pkj,
			ClientMetadata: oauth.ClientMetadata{JWKS: jwksOf(t, encKey)}}, "jwks"},
		{"repeated kid", client.Metadata{TokenEndpointAuthMethod: pkj,
			ClientMetadata: oauth.ClientMetadata{JWKS: jwksOf(t, pubEC, pubEC)}}, "jwks"},
		{"jwks not a set", client.Metadata{TokenEndpointAuthMethod: pkj,
			ClientMetadata: oauth.ClientMetadata{JWKS: json.RawMessage(`[{"kty":"EC"}]`)}}, "jwks"},
		{"empty jwks", client.Metadata{TokenEndpointAuthMethod: pkj,
			ClientMetadata: oauth.ClientMetadata{JWKS: json.RawMessage(`{"keys":[]}`)}}, "jwks"},
		{"jwks_uri over http", client.Metadata{TokenEndpointAuthMethod: pkj,
			ClientMetadata: oauth.ClientMetadata{JWKSURI: "http://app.example/jwks.json"}}, "jwks_uri"},
		{"jwks_uri with credentials", client.Metadata{TokenEndpointAuthMethod: pkj,
			ClientMetadata: oauth.ClientMetadata{JWKSURI: "https://u:p@app.example/jwks.json"}}, "jwks_uri"},
		{"federated issuer over http", client.Metadata{TokenEndpointAuthMethod: pkj, ClientMetadata: oauth.ClientMetadata{
			FederatedCredentials: []oauth.FederatedCredential{{Issuer: "http://k8s.example", Subject: "s"}}}}, "federated_credentials"},
		{"federated issuer with a query", client.Metadata{TokenEndpointAuthMethod: pkj, ClientMetadata: oauth.ClientMetadata{
			FederatedCredentials: []oauth.FederatedCredential{{Issuer: "https://k8s.example?x=1", Subject: "s"}}}}, "federated_credentials"},
		{"federated without subject", client.Metadata{TokenEndpointAuthMethod: pkj, ClientMetadata: oauth.ClientMetadata{
			FederatedCredentials: []oauth.FederatedCredential{{Issuer: "https://k8s.example"}}}}, "federated_credentials"},
		{"federated repeated", client.Metadata{TokenEndpointAuthMethod: pkj, ClientMetadata: oauth.ClientMetadata{
			FederatedCredentials: []oauth.FederatedCredential{k8s, k8s}}}, "federated_credentials"},
		{"federated for a secret client", client.Metadata{ClientMetadata: oauth.ClientMetadata{
			FederatedCredentials: []oauth.FederatedCredential{k8s}}}, "federated_credentials"},
		{"tls_client_auth with a DN", client.Metadata{TokenEndpointAuthMethod: oauth.AuthMethodTLS,
			ClientMetadata: oauth.ClientMetadata{TLSClientAuthSubjectDN: "CN=app,O=Example"}}, ""},
		{"tls_client_auth with a SAN IP", client.Metadata{TokenEndpointAuthMethod: oauth.AuthMethodTLS,
			ClientMetadata: oauth.ClientMetadata{TLSClientAuthSANIP: "2001:db8::1"}}, ""},
		// RFC 8705 §2.1.2: exactly one.
		{"tls_client_auth with none", client.Metadata{TokenEndpointAuthMethod: oauth.AuthMethodTLS}, "tls_client_auth_subject_dn"},
		{"tls_client_auth with two", client.Metadata{TokenEndpointAuthMethod: oauth.AuthMethodTLS, ClientMetadata: oauth.ClientMetadata{
			TLSClientAuthSubjectDN: "CN=app", TLSClientAuthSANDNS: "app.example"}}, "tls_client_auth_subject_dn"},
		{"tls_client_auth with a bad IP", client.Metadata{TokenEndpointAuthMethod: oauth.AuthMethodTLS,
			ClientMetadata: oauth.ClientMetadata{TLSClientAuthSANIP: "app.example"}}, "tls_client_auth_san_ip"},
		{"tls_client_auth_* for another method", client.Metadata{ClientMetadata: oauth.ClientMetadata{TLSClientAuthSANDNS: "app.example"}}, "tls_client_auth_san_dns"},
		{"self-signed with jwks", client.Metadata{TokenEndpointAuthMethod: oauth.AuthMethodSelfSignedTLS,
			ClientMetadata: oauth.ClientMetadata{JWKS: jwksOf(t, pubEC)}}, ""},
		{"self-signed without keys", client.Metadata{TokenEndpointAuthMethod: oauth.AuthMethodSelfSignedTLS}, "jwks"},
		{"binding flags", client.Metadata{ClientMetadata: oauth.ClientMetadata{DPoPBoundAccessTokens: true,
			TLSClientCertificateBoundAccessTokens: true}}, ""},
		{"logo over http", client.Metadata{ClientMetadata: oauth.ClientMetadata{LogoURI: "http://app.example/logo.png"}}, "logo_uri"},
		{"javascript client_uri", client.Metadata{ClientMetadata: oauth.ClientMetadata{ClientURI: "javascript:alert(1)"}}, "client_uri"},
		{"too many contacts", client.Metadata{ClientMetadata: oauth.ClientMetadata{Contacts: strings.Split(strings.Repeat("a@b.c ", 11), " ")[:11]}}, "contacts"},
		// RFC 7591 §2.1: response_types and grant_types agree.
		{"response type code with the code grant", client.Metadata{GrantTypes: []string{oauth.GrantAuthorizationCode},
			RedirectURIs: []string{"https://app.example/cb"}, ResponseTypes: []string{"code"}}, ""},
		{"response type code without it", client.Metadata{GrantTypes: []string{oauth.GrantClientCredentials}, ResponseTypes: []string{"code"}}, "response_types"},
		{"implicit", client.Metadata{GrantTypes: []string{oauth.GrantAuthorizationCode},
			RedirectURIs: []string{"https://app.example/cb"}, ResponseTypes: []string{"token"}}, "response_types"},
		{"client_secret_jwt without a sealer", client.Metadata{TokenEndpointAuthMethod: oauth.AuthMethodSecretJWT}, "token_endpoint_auth_method"},
	}
	svc := newKeyService(t, false)
	by := client.Caller{Credential: "admin-token"}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, secret, err := svc.Create(context.Background(), tc.m, by)
			if tc.wantField == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if got := c.UsesSecret(); got != (secret != "") || (got && c.SecretHash == nil) {
					t.Fatalf("uses a secret %v, got secret %q", got, secret)
				}
				stored, err := svc.Get(context.Background(), c.ID)
				if err != nil {
					t.Fatal(err)
				}
				back := client.MetadataOf(stored)
				if string(back.JWKS) != string(c.Metadata.JWKS) || back.JWKSURI != tc.m.JWKSURI ||
					len(back.FederatedCredentials) != len(tc.m.FederatedCredentials) ||
					back.DPoPBoundAccessTokens != tc.m.DPoPBoundAccessTokens {
					t.Fatalf("stored metadata %+v, registered %+v", back.ClientMetadata, tc.m.ClientMetadata)
				}
				return
			}
			var im *client.InvalidMetadata
			if !errors.As(err, &im) || im.Field != tc.wantField {
				t.Fatalf("err %v, want invalid %s", err, tc.wantField)
			}
		})
	}
}

// Moving a client from a secret to keys drops the secret; client_secret_jwt
// keeps its secret sealed, and rotating gives a new sealed one.
func TestSecretFollowsTheMethod(t *testing.T) {
	ctx := context.Background()
	svc := newKeyService(t, true)
	by := client.Caller{Credential: "admin-token"}
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwks := jwksOf(t, jose.JSONWebKey{Key: &ecKey.PublicKey, KeyID: "k1"})

	c, secret, err := svc.Create(ctx, client.Metadata{ClientID: "svc"}, by)
	if err != nil || secret == "" || c.SecretSealed != nil {
		t.Fatalf("create: %v %q sealed %q", err, secret, c.SecretSealed)
	}
	c, err = svc.Update(ctx, "svc", client.Metadata{TokenEndpointAuthMethod: oauth.AuthMethodPrivateKeyJWT,
		ClientMetadata: oauth.ClientMetadata{JWKS: jwks}}, by)
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := svc.Get(ctx, "svc")
	if stored.SecretHash != nil || c.SecretHash != nil {
		t.Fatal("a client moved to private_key_jwt kept its secret")
	}
	if _, err := svc.RotateSecret(ctx, "svc", by); !errors.Is(err, client.ErrNoSecret) {
		t.Fatalf("rotating a key client's secret: %v", err)
	}

	jwt, secret, err := svc.Create(ctx, client.Metadata{ClientID: "hs", TokenEndpointAuthMethod: oauth.AuthMethodSecretJWT}, by)
	if err != nil || secret == "" || string(jwt.SecretSealed) != "sealed:"+secret {
		t.Fatalf("client_secret_jwt: %v %q sealed %q", err, secret, jwt.SecretSealed)
	}
	rotated, err := svc.RotateSecret(ctx, "hs", by)
	if err != nil {
		t.Fatal(err)
	}
	if stored, _ := svc.Get(ctx, "hs"); string(stored.SecretSealed) != "sealed:"+rotated {
		t.Fatalf("after rotation sealed %q", stored.SecretSealed)
	}
	// A basic client switched to client_secret_jwt has no sealed secret to
	// use: it has none until rotated.
	if _, err := svc.Update(ctx, "svc", client.Metadata{TokenEndpointAuthMethod: oauth.AuthMethodBasic}, by); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RotateSecret(ctx, "svc", by); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Update(ctx, "svc", client.Metadata{TokenEndpointAuthMethod: oauth.AuthMethodSecretJWT}, by); err != nil {
		t.Fatal(err)
	}
	if stored, _ := svc.Get(ctx, "svc"); stored.SecretHash != nil || stored.SecretSealed != nil {
		t.Fatal("a secret issued for client_secret_basic survived a switch to client_secret_jwt")
	}
	if s, err := svc.RotateSecret(ctx, "svc", by); err != nil || s == "" {
		t.Fatalf("rotate after switching: %v", err)
	}
	if stored, _ := svc.Get(ctx, "svc"); stored.SecretSealed == nil {
		t.Fatal("rotated client_secret_jwt secret not sealed")
	}
}

// FuzzKeyMetadata: whatever a registration sends, validation answers with
// a value or an InvalidMetadata, never a panic, and what it accepts is stored
// and read back.
func FuzzKeyMetadata(f *testing.F) {
	f.Add(`{"token_endpoint_auth_method":"private_key_jwt","jwks":{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}}`)
	f.Add(`{"token_endpoint_auth_method":"tls_client_auth","tls_client_auth_san_ip":"192.0.2.1"}`)
	f.Add(`{"token_endpoint_auth_method":"private_key_jwt","federated_credentials":[{"issuer":"https://k8s.example","subject":"s"}]}`)
	f.Add(`{"jwks":{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]},"token_endpoint_auth_method":"self_signed_tls_client_auth"}`)
	svc := newKeyService(f, true)
	f.Fuzz(func(t *testing.T, body string) {
		var m client.Metadata
		if json.Unmarshal([]byte(body), &m) != nil {
			return
		}
		m.ClientID = ""
		c, _, err := svc.Create(context.Background(), m, client.Caller{})
		var im *client.InvalidMetadata
		if err != nil && !errors.As(err, &im) {
			t.Fatalf("not an InvalidMetadata: %v", err)
		}
		if err == nil {
			if _, err := svc.Get(context.Background(), c.ID); err != nil {
				t.Fatal(err)
			}
		}
	})
}
