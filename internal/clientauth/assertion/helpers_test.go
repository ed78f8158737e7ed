package assertion_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/internal/clientauth/assertion"
	"github.com/authd/authd/internal/testenv/clocktest"
)

const (
	issuer        = "https://authd.example"
	tokenEndpoint = "https://authd.example/oauth2/token"
	k8sIssuer     = "https://kubernetes.default.svc.cluster.local"
	k8sSubject    = "system:serviceaccount:payments:api"
	ciIssuer      = "https://token.actions.githubusercontent.com"
	ciSubject     = "repo:acme/api:ref:refs/heads/main"
	ciAudience    = "https://authd.example/ci"
)

var start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testKey is a signing key and the public JWK a client registers for it.
type testKey struct {
	alg  string // the JWS alg it signs with
	kid  string
	priv crypto.Signer // nil for HMAC
	// jwkAlg is the alg published on the JWK ("" for none).
	jwkAlg string
}

func (k *testKey) public() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: k.jwkAlg, Use: "sig"}
}

var (
	fixturesOnce sync.Once
	fixtures     map[string]*testKey
)

// keys generates each kind of key once for the whole package (RSA generation is
// slow under -race).
func keys(t testing.TB) map[string]*testKey {
	t.Helper()
	fixturesOnce.Do(func() {
		must := func(s crypto.Signer, err error) crypto.Signer {
			if err != nil {
				panic(err)
			}
			return s
		}
		ed := func() crypto.Signer {
			_, p, err := ed25519.GenerateKey(rand.Reader)
			return must(p, err)
		}
		fixtures = map[string]*testKey{
			"ES256":    {alg: "ES256", kid: "es256-1", jwkAlg: "ES256", priv: must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))},
			"ES256b":   {alg: "ES256", kid: "es256-2", jwkAlg: "ES256", priv: must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))},
			"ES384":    {alg: "ES384", kid: "es384-1", jwkAlg: "ES384", priv: must(ecdsa.GenerateKey(elliptic.P384(), rand.Reader))},
			"RS256":    {alg: "RS256", kid: "rs256-1", jwkAlg: "RS256", priv: must(rsa.GenerateKey(rand.Reader, 2048))},
			"PS256":    {alg: "PS256", kid: "ps256-1", jwkAlg: "PS256", priv: must(rsa.GenerateKey(rand.Reader, 2048))},
			"RSA1024":  {alg: "RS256", kid: "rsa1024", jwkAlg: "RS256", priv: must(rsa.GenerateKey(rand.Reader, 1024))},
			"EdDSA":    {alg: "EdDSA", kid: "ed-1", jwkAlg: "EdDSA", priv: ed()},
			"Ed25519":  {alg: "Ed25519", kid: "ed-2", jwkAlg: "Ed25519", priv: ed()},
			"k8s":      {alg: "RS256", kid: "k8s-2026-03", jwkAlg: "RS256", priv: must(rsa.GenerateKey(rand.Reader, 2048))},
			"ci":       {alg: "ES256", kid: "ci-1", priv: must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))},
			"attacker": {alg: "ES256", kid: "es256-1", jwkAlg: "ES256", priv: must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))},
		}
	})
	return fixtures
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// signJWT builds a compact JWS by hand, so a test controls every header
// (including ones go-jose would never write, such as alg none or Ed25519).
// alg overrides k.alg when not "". secret, when not nil, is the HMAC key.
func signJWT(t testing.TB, k *testKey, alg string, header map[string]any, claims any, secret []byte) string {
	t.Helper()
	if alg == "" {
		alg = k.alg
	}
	h := map[string]any{"alg": alg}
	if k != nil && k.kid != "" {
		h["kid"] = k.kid
	}
	for name, v := range header {
		if v == nil {
			delete(h, name)
		} else {
			h[name] = v
		}
	}
	hb, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	input := b64(hb) + "." + b64(cb)
	return input + "." + b64(rawSign(t, k, alg, []byte(input), secret))
}

func rawSign(t testing.TB, k *testKey, alg string, input []byte, secret []byte) []byte {
	t.Helper()
	digest := func(h crypto.Hash) []byte {
		d := h.New()
		d.Write(input)
		return d.Sum(nil)
	}
	switch alg {
	case "none", "None", "RS512", "ES512":
		// Algorithms nobody may accept: a non-empty stand-in signature, so the
		// alg check is what refuses them.
		return []byte("not a signature")
	case "HS256", "HS384", "HS512":
		hf := map[string]crypto.Hash{"HS256": crypto.SHA256, "HS384": crypto.SHA384, "HS512": crypto.SHA512}[alg]
		m := hmac.New(hf.New, secret)
		m.Write(input)
		return m.Sum(nil)
	case "EdDSA", "Ed25519":
		return ed25519.Sign(k.priv.(ed25519.PrivateKey), input)
	case "ES256", "ES384":
		hf, size := crypto.SHA256, 32
		if alg == "ES384" {
			hf, size = crypto.SHA384, 48
		}
		r, s, err := ecdsa.Sign(rand.Reader, k.priv.(*ecdsa.PrivateKey), digest(hf))
		if err != nil {
			t.Fatal(err)
		}
		out := make([]byte, 2*size)
		r.FillBytes(out[:size])
		s.FillBytes(out[size:])
		return out
	case "RS256":
		sig, err := rsa.SignPKCS1v15(rand.Reader, k.priv.(*rsa.PrivateKey), crypto.SHA256, digest(crypto.SHA256))
		if err != nil {
			t.Fatal(err)
		}
		return sig
	case "PS256":
		sig, err := rsa.SignPSS(rand.Reader, k.priv.(*rsa.PrivateKey), crypto.SHA256, digest(crypto.SHA256),
			&rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
	t.Fatalf("rawSign: alg %s", alg)
	return nil
}

// signJose signs with go-jose, to prove interoperability with another
// implementation's output, not just with this file's.
func signJose(t testing.TB, k *testKey, claims any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{
		Algorithm: jose.SignatureAlgorithm(k.alg),
		Key:       jose.JSONWebKey{Key: k.priv, KeyID: k.kid},
	}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var jtiSeq atomic.Int64

// ownClaims are the claims of a client's own assertion, valid at now.
func ownClaims(clientID string, now time.Time) map[string]any {
	return map[string]any{
		"iss": clientID,
		"sub": clientID,
		"aud": issuer,
		"iat": now.Unix(),
		"exp": now.Add(time.Minute).Unix(),
		"jti": "jti-" + strconv.FormatInt(jtiSeq.Add(1), 10),
	}
}

// k8sClaims are a projected service-account token's, as kube-apiserver issues
// it for a pod whose volume asks for audience authd (expirationSeconds 3600).
func k8sClaims(now time.Time) map[string]any {
	iat := now.Add(-10 * time.Minute)
	return map[string]any{
		"aud": []string{issuer},
		"exp": iat.Add(time.Hour).Unix(),
		"iat": iat.Unix(),
		"nbf": iat.Unix(),
		"iss": k8sIssuer,
		"jti": "9b1c2e61-5a0b-4c1e-9d1e-2f6f0d1c7a3b",
		"kubernetes.io": map[string]any{
			"namespace": "payments",
			"node":      map[string]any{"name": "node-7", "uid": "5d0a9f6e-0c1b-4f0a-8e1d-3c2b1a0f9e8d"},
			"pod":       map[string]any{"name": "api-7d9f8c6b5-x2x4z", "uid": "0e3c5b1a-7f2d-4b6e-9a8c-1d2e3f4a5b6c"},
			"serviceaccount": map[string]any{
				"name": "api", "uid": "2a4c6e8f-1b3d-4f5a-8c7e-9d0b1a2c3e4f",
			},
		},
		"sub": k8sSubject,
	}
}

// memReplay is an in-memory Replay: a map under a mutex, as the conformance
// contract asks (concurrent uses of one key see exactly one first).
type memReplay struct {
	mu   sync.Mutex
	seen map[string]time.Time
	err  error
	now  func() time.Time
}

func newMemReplay(now func() time.Time) *memReplay {
	return &memReplay{seen: map[string]time.Time{}, now: now}
}

func (m *memReplay) Use(_ context.Context, key string, until time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return false, m.err
	}
	if u, ok := m.seen[key]; ok && m.now().Before(u) {
		return false, nil
	}
	m.seen[key] = until
	return true, nil
}

func (m *memReplay) fail(err error) {
	m.mu.Lock()
	m.err = err
	m.mu.Unlock()
}

// staticKeys is a KeySource over fixed sets, filtering by kid as the contract says.
type staticKeys struct {
	sets  map[string][]jose.JSONWebKey
	err   error
	calls atomic.Int64
}

func (s *staticKeys) Keys(_ context.Context, uri, kid string) ([]jose.JSONWebKey, error) {
	s.calls.Add(1)
	if s.err != nil {
		return nil, s.err
	}
	return byKID(s.sets[uri], kid), nil
}

// staticIssuers is an IssuerKeys over fixed sets keyed by issuer, or by the
// explicit jwks_uri when one is given.
type staticIssuers struct {
	sets  map[string][]jose.JSONWebKey
	err   error
	asked []string
	mu    sync.Mutex
}

func (s *staticIssuers) Keys(_ context.Context, iss, jwksURI, kid string) ([]jose.JSONWebKey, error) {
	s.mu.Lock()
	s.asked = append(s.asked, iss+" "+jwksURI)
	s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	where := iss
	if jwksURI != "" {
		where = jwksURI
	}
	return byKID(s.sets[where], kid), nil
}

func byKID(keys []jose.JSONWebKey, kid string) []jose.JSONWebKey {
	if kid == "" {
		return keys
	}
	var out []jose.JSONWebKey
	for _, k := range keys {
		if k.KeyID == kid {
			out = append(out, k)
		}
	}
	return out
}

// mapSecrets is a Secrets over plaintext secrets by client; a client missing
// from it has only a hashed secret.
type mapSecrets struct {
	m   map[string][]byte
	err error
}

func (s *mapSecrets) SecretFor(_ context.Context, c *assertion.Client) ([]byte, error) {
	if s.err != nil {
		return nil, s.err
	}
	v, ok := s.m[c.ID]
	if !ok {
		return nil, assertion.ErrUnsupported
	}
	return v, nil
}

var (
	secret64 = []byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	// secret43 is shaped like an authd-generated secret: 256 bits, base64url.
	secret43 = []byte("Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycA")
)

// env is a Verifier with fakes, a fake clock and a client table.
type env struct {
	v       *assertion.Verifier
	clk     *clocktest.Clock
	replay  *memReplay
	keys    *staticKeys
	issuers *staticIssuers
	secrets *mapSecrets
	clients map[string]*assertion.Client
	k       map[string]*testKey
}

func jwks(t testing.TB, ks ...jose.JSONWebKey) []byte {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: ks})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newEnv(t testing.TB, configure func(*assertion.Config)) *env {
	t.Helper()
	k := keys(t)
	clk := clocktest.New(start)
	e := &env{
		clk:    clk,
		replay: newMemReplay(clk.Now),
		keys: &staticKeys{sets: map[string][]jose.JSONWebKey{
			"https://app.example/jwks.json": {k["RS256"].public(), k["ES256b"].public()},
		}},
		issuers: &staticIssuers{sets: map[string][]jose.JSONWebKey{
			k8sIssuer:                          {k["k8s"].public()},
			ciIssuer:                           {k["ci"].public()},
			"https://oidc.example/keys/custom": {k["EdDSA"].public()},
		}},
		secrets: &mapSecrets{m: map[string][]byte{"app-hs": secret64, "app-hs-short": secret43}},
		k:       k,
	}
	noAlg := k["ES256"].public()
	noAlg.Algorithm, noAlg.Use = "", ""
	encUse := k["ES256"].public()
	encUse.Use = "enc"
	edKeyAlgEdDSA := k["EdDSA"].public() // published as EdDSA, used with Ed25519 in a test
	e.clients = map[string]*assertion.Client{
		"app-es256":     {ID: "app-es256", Method: assertion.MethodPrivateKeyJWT, JWKS: jwks(t, k["ES256"].public())},
		"app-es384":     {ID: "app-es384", Method: assertion.MethodPrivateKeyJWT, JWKS: jwks(t, k["ES384"].public())},
		"app-rs256":     {ID: "app-rs256", Method: assertion.MethodPrivateKeyJWT, JWKS: jwks(t, k["RS256"].public())},
		"app-ps256":     {ID: "app-ps256", Method: assertion.MethodPrivateKeyJWT, JWKS: jwks(t, k["PS256"].public())},
		"app-eddsa":     {ID: "app-eddsa", Method: assertion.MethodPrivateKeyJWT, JWKS: jwks(t, edKeyAlgEdDSA)},
		"app-ed25519":   {ID: "app-ed25519", Method: assertion.MethodPrivateKeyJWT, JWKS: jwks(t, k["Ed25519"].public())},
		"app-noalg":     {ID: "app-noalg", Method: assertion.MethodPrivateKeyJWT, JWKS: jwks(t, noAlg)},
		"app-enc":       {ID: "app-enc", Method: assertion.MethodPrivateKeyJWT, JWKS: jwks(t, encUse)},
		"app-rsa1024":   {ID: "app-rsa1024", Method: assertion.MethodPrivateKeyJWT, JWKS: jwks(t, k["RSA1024"].public())},
		"app-two":       {ID: "app-two", Method: assertion.MethodPrivateKeyJWT, JWKS: jwks(t, k["ES256"].public(), k["ES256b"].public())},
		"app-uri":       {ID: "app-uri", Method: assertion.MethodPrivateKeyJWT, JWKSURI: "https://app.example/jwks.json"},
		"app-both":      {ID: "app-both", Method: assertion.MethodPrivateKeyJWT, JWKS: jwks(t, k["ES256"].public()), JWKSURI: "https://app.example/jwks.json"},
		"app-nokeys":    {ID: "app-nokeys", Method: assertion.MethodPrivateKeyJWT},
		"app-strict":    {ID: "app-strict", Method: assertion.MethodPrivateKeyJWT, JWKS: jwks(t, k["ES256"].public()), StrictAudience: true},
		"app-basic":     {ID: "app-basic", Method: "client_secret_basic", JWKS: jwks(t, k["ES256"].public())},
		"app-hs":        {ID: "app-hs", Method: assertion.MethodSecretJWT},
		"app-hs-short":  {ID: "app-hs-short", Method: assertion.MethodSecretJWT},
		"app-hs-hashed": {ID: "app-hs-hashed", Method: assertion.MethodSecretJWT},
		"workload": {ID: "workload", Method: assertion.MethodPrivateKeyJWT, FederatedCredentials: []assertion.FederatedCredential{
			{Issuer: k8sIssuer, Subject: k8sSubject},
			{Issuer: ciIssuer, Subject: ciSubject, Audience: ciAudience},
			{Issuer: "https://oidc.example", Subject: "svc", JWKSURI: "https://oidc.example/keys/custom"},
		}},
		"workload-24h": {ID: "workload-24h", Method: assertion.MethodPrivateKeyJWT, FederatedCredentials: []assertion.FederatedCredential{
			{Issuer: k8sIssuer, Subject: k8sSubject, MaxLifetime: 24 * time.Hour},
		}},
		"workload-48h": {ID: "workload-48h", Method: assertion.MethodPrivateKeyJWT, FederatedCredentials: []assertion.FederatedCredential{
			{Issuer: k8sIssuer, Subject: k8sSubject, MaxLifetime: 48 * time.Hour}, // capped at 24h
		}},
	}
	cfg := assertion.Config{
		Issuer:        issuer,
		TokenEndpoint: tokenEndpoint,
		Keys:          e.keys,
		IssuerKeys:    e.issuers,
		Secrets:       e.secrets,
		Replay:        e.replay,
		Now:           clk.Now,
	}
	if configure != nil {
		configure(&cfg)
	}
	v, err := assertion.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.v = v
	return e
}

var errUnknownClient = errors.New("test: no such client")

// authenticate is what the wiring will do: parse, look the client up, verify.
func (e *env) authenticate(ctx context.Context, in assertion.Input) (*assertion.Result, error) {
	a, err := e.v.Parse(in)
	if err != nil {
		return nil, err
	}
	c, ok := e.clients[a.ClientID()]
	if !ok {
		return nil, errUnknownClient
	}
	return e.v.Verify(ctx, a, c)
}

func bearer(jwt string) assertion.Input {
	return assertion.Input{AssertionType: assertion.TypeJWTBearer, Assertion: jwt}
}
