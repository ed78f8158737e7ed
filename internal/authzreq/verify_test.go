package authzreq_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/internal/authzreq"
	"github.com/authd/authd/internal/oauth"
)

const issuer = "https://as.example"

var now = time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)

type fixture struct {
	key    *ecdsa.PrivateKey
	other  *ecdsa.PrivateKey
	client *oauth.Client
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	o, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	set, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.PublicKey, KeyID: "k1", Use: "sig", Algorithm: "ES256"}}})
	if err != nil {
		t.Fatal(err)
	}
	c := &oauth.Client{ID: "app", TokenEndpointAuthMethod: oauth.AuthMethodPrivateKeyJWT}
	c.Metadata.JWKS = set
	return &fixture{key: k, other: o, client: c}
}

func claims() map[string]any {
	return map[string]any{
		"iss": "app", "aud": issuer, "client_id": "app",
		"exp": now.Add(5 * time.Minute).Unix(), "nbf": now.Unix(), "iat": now.Unix(),
		"response_type": "code", "redirect_uri": "https://app.example/cb", "scope": "openid",
		"state": "st", "max_age": 300, "claims": map[string]any{"userinfo": nil},
	}
}

func sign(t testing.TB, key any, alg jose.SignatureAlgorithm, kid, typ string, cl map[string]any) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(cl)
	jws, err := s.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// withCrit signs cl with a crit header naming an extension authd does not
// know (RFC 7515 §4.1.11: the object must then be refused).
func withCrit(t testing.TB, key any, cl map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{}).WithHeader("kid", "k1").WithHeader("crit", []string{"ext"}).WithHeader("ext", 1))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(cl)
	jws, err := s.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := jws.CompactSerialize()
	return out
}

func unsigned(cl map[string]any) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`))
	b, _ := json.Marshal(cl)
	return h + "." + base64.RawURLEncoding.EncodeToString(b) + "."
}

func with(edit func(map[string]any)) map[string]any {
	c := claims()
	edit(c)
	return c
}

func verifier(t testing.TB, keys authzreq.KeySource) *authzreq.Verifier {
	t.Helper()
	v, err := authzreq.NewVerifier(authzreq.Options{Issuer: issuer, Keys: keys, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

type keysFunc func(ctx context.Context, uri, kid string) ([]jose.JSONWebKey, error)

func (f keysFunc) Keys(ctx context.Context, uri, kid string) ([]jose.JSONWebKey, error) {
	return f(ctx, uri, kid)
}

func TestVerify(t *testing.T) {
	f := newFixture(t)
	ed := ed25519.NewKeyFromSeed(make([]byte, 32))
	edClient := &oauth.Client{ID: "app"}
	edClient.Metadata.JWKSURI = "https://app.example/jwks"
	edKeys := keysFunc(func(_ context.Context, uri, _ string) ([]jose.JSONWebKey, error) {
		return []jose.JSONWebKey{{Key: ed.Public()}}, nil
	})
	down := keysFunc(func(context.Context, string, string) ([]jose.JSONWebKey, error) {
		return nil, fmt.Errorf("dial: %w", authzreq.ErrKeysUnavailable)
	})
	restricted := *f.client
	restricted.Metadata.RequestObjectSigningAlg = "PS256"
	noKeys := &oauth.Client{ID: "app"}

	tests := []struct {
		name       string
		client     *oauth.Client
		keys       authzreq.KeySource
		raw        string
		wantErr    string // "" success
		wantStatus int
	}{
		{name: "valid, typed", raw: sign(t, f.key, jose.ES256, "k1", "oauth-authz-req+jwt", claims())},
		{name: "valid, untyped, no kid", raw: sign(t, f.key, jose.ES256, "", "", claims())},
		{name: "valid, typ JWT", raw: sign(t, f.key, jose.ES256, "k1", "JWT", claims())},
		{name: "valid, aud array", raw: sign(t, f.key, jose.ES256, "k1", "", with(func(c map[string]any) { c["aud"] = []string{"x", issuer} }))},
		{name: "valid, EdDSA through jwks_uri", client: edClient, keys: edKeys, raw: sign(t, ed, jose.EdDSA, "", "", claims())},
		{name: "alg none", raw: unsigned(claims()), wantErr: authzreq.CodeInvalidRequestObject},
		{name: "HMAC", raw: sign(t, []byte(strings.Repeat("s", 32)), jose.HS256, "k1", "", claims()), wantErr: authzreq.CodeInvalidRequestObject},
		{name: "wrong aud", raw: sign(t, f.key, jose.ES256, "k1", "", with(func(c map[string]any) { c["aud"] = issuer + "/oauth2/token" })), wantErr: authzreq.CodeInvalidRequestObject},
		{name: "no aud", raw: sign(t, f.key, jose.ES256, "k1", "", with(func(c map[string]any) { delete(c, "aud") })), wantErr: authzreq.CodeInvalidRequestObject},
		{name: "wrong iss", raw: sign(t, f.key, jose.ES256, "k1", "", with(func(c map[string]any) { c["iss"] = "other" })), wantErr: authzreq.CodeInvalidRequestObject},
		{name: "expired", raw: sign(t, f.key, jose.ES256, "k1", "", with(func(c map[string]any) { c["exp"] = now.Add(-time.Minute).Unix() })), wantErr: authzreq.CodeInvalidRequestObject},
		{name: "exp missing", raw: sign(t, f.key, jose.ES256, "k1", "", with(func(c map[string]any) { delete(c, "exp") })), wantErr: authzreq.CodeInvalidRequestObject},
		{name: "exp as a string", raw: sign(t, f.key, jose.ES256, "k1", "", with(func(c map[string]any) { c["exp"] = fmt.Sprint(now.Add(time.Minute).Unix()) })), wantErr: authzreq.CodeInvalidRequestObject},
		{name: "exp over an hour ahead", raw: sign(t, f.key, jose.ES256, "k1", "", with(func(c map[string]any) { c["exp"] = now.Add(2 * time.Hour).Unix() })), wantErr: authzreq.CodeInvalidRequestObject},
		{name: "nbf in the future", raw: sign(t, f.key, jose.ES256, "k1", "", with(func(c map[string]any) { c["nbf"] = now.Add(5 * time.Minute).Unix() })), wantErr: authzreq.CodeInvalidRequestObject},
		{name: "nbf too old", raw: sign(t, f.key, jose.ES256, "k1", "", with(func(c map[string]any) { c["nbf"] = now.Add(-2 * time.Hour).Unix() })), wantErr: authzreq.CodeInvalidRequestObject},
		{name: "client_id mismatch", raw: sign(t, f.key, jose.ES256, "k1", "", with(func(c map[string]any) { c["client_id"] = "other" })), wantErr: authzreq.CodeInvalidRequestObject},
		{name: "client_id missing", raw: sign(t, f.key, jose.ES256, "k1", "", with(func(c map[string]any) { delete(c, "client_id") })), wantErr: authzreq.CodeInvalidRequestObject},
		{name: "request_uri inside", raw: sign(t, f.key, jose.ES256, "k1", "", with(func(c map[string]any) { c["request_uri"] = "urn:x" })), wantErr: authzreq.CodeInvalidRequestObject},
		{name: "request inside", raw: sign(t, f.key, jose.ES256, "k1", "", with(func(c map[string]any) { c["request"] = "x.y.z" })), wantErr: authzreq.CodeInvalidRequestObject},
		{name: "crit header", raw: withCrit(t, f.key, claims()), wantErr: authzreq.CodeInvalidRequestObject},
		{name: "wrong typ", raw: sign(t, f.key, jose.ES256, "k1", "at+jwt", claims()), wantErr: authzreq.CodeInvalidRequestObject},
		{name: "signed by another key", raw: sign(t, f.other, jose.ES256, "k1", "", claims()), wantErr: authzreq.CodeInvalidRequestObject},
		{name: "unknown kid", raw: sign(t, f.key, jose.ES256, "k9", "", claims()), wantErr: authzreq.CodeInvalidRequestObject},
		{name: "alg other than registered", client: &restricted, raw: sign(t, f.key, jose.ES256, "k1", "", claims()), wantErr: authzreq.CodeInvalidRequestObject},
		{name: "client without keys", client: noKeys, raw: sign(t, f.key, jose.ES256, "k1", "", claims()), wantErr: authzreq.CodeInvalidRequestObject},
		{name: "encrypted (five parts)", raw: "a.b.c.d.e", wantErr: authzreq.CodeInvalidRequestObject},
		{name: "garbage", raw: "not a jwt", wantErr: authzreq.CodeInvalidRequestObject},
		{name: "too large", raw: strings.Repeat("a", authzreq.MaxRequestObjectBytes+1), wantErr: authzreq.CodeInvalidRequestObject},
		{name: "jwks_uri down", client: edClient, keys: down, raw: sign(t, ed, jose.EdDSA, "", "", claims()), wantErr: oauth.CodeTemporarilyUnavailable, wantStatus: http.StatusServiceUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.client
			if c == nil {
				c = f.client
			}
			params, err := verifier(t, tc.keys).Verify(t.Context(), c, tc.raw)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				want := url.Values{"client_id": {"app"}, "response_type": {"code"}, "redirect_uri": {"https://app.example/cb"},
					"scope": {"openid"}, "state": {"st"}, "max_age": {"300"}}
				if params.Encode() != want.Encode() {
					t.Fatalf("params = %s, want %s", params.Encode(), want.Encode())
				}
				return
			}
			e, ok := oauth.As(err)
			if !ok || e.Code != tc.wantErr {
				t.Fatalf("Verify error = %v, want %s", err, tc.wantErr)
			}
			status := tc.wantStatus
			if status == 0 {
				status = http.StatusBadRequest
			}
			if e.Status != status {
				t.Fatalf("status %d, want %d", e.Status, status)
			}
		})
	}
}

func TestVerifyCanceled(t *testing.T) {
	f := newFixture(t)
	c := &oauth.Client{ID: "app"}
	c.Metadata.JWKSURI = "https://app.example/jwks"
	canceled := keysFunc(func(ctx context.Context, _, _ string) ([]jose.JSONWebKey, error) { return nil, context.Canceled })
	_, err := verifier(t, canceled).Verify(t.Context(), c, sign(t, f.key, jose.ES256, "k1", "", claims()))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestVerifyFAPI2Algorithms: a client held to FAPI 2.0 (its own profile or
// the server's default) signs request objects with PS256, ES256 or EdDSA
// only (Security Profile §5.4); RS256, fine for others, is refused.
func TestVerifyFAPI2Algorithms(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &rsaKey.PublicKey, KeyID: "r1", Use: "sig"}, {Key: &ecKey.PublicKey, KeyID: "e1", Use: "sig"}}})
	for _, tc := range []struct {
		name, serverProfile, clientProfile string
		alg                                jose.SignatureAlgorithm
		ok                                 bool
	}{
		{"default, RS256", "", "", jose.RS256, true},
		{"fapi2 client, RS256", "", oauth.ProfileFAPI2, jose.RS256, false},
		{"fapi2 by default, RS256", oauth.ProfileFAPI2, "", jose.RS256, false},
		{"fapi2 client, PS256", "", oauth.ProfileFAPI2, jose.PS256, true},
		{"fapi2 client, ES256", "", oauth.ProfileFAPI2, jose.ES256, true},
		{"default opts out of the server's fapi2, RS256", oauth.ProfileFAPI2, oauth.ProfileDefault, jose.RS256, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := authzreq.NewVerifier(authzreq.Options{Issuer: issuer, Now: func() time.Time { return now }, SecurityProfile: tc.serverProfile})
			if err != nil {
				t.Fatal(err)
			}
			c := &oauth.Client{ID: "app", TokenEndpointAuthMethod: oauth.AuthMethodPrivateKeyJWT}
			c.Metadata.JWKS, c.Metadata.SecurityProfile = set, tc.clientProfile
			var key any = rsaKey
			kid := "r1"
			if tc.alg == jose.ES256 {
				key, kid = ecKey, "e1"
			}
			_, err = v.Verify(context.Background(), c, sign(t, key, tc.alg, kid, "oauth-authz-req+jwt", claims()))
			if (err == nil) != tc.ok {
				t.Fatalf("err %v, want ok %v", err, tc.ok)
			}
		})
	}
}
