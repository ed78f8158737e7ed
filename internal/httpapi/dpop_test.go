package httpapi_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/internal/dpop"
	"github.com/authd/authd/internal/httpapi"
	"github.com/authd/authd/internal/oauth"
	rmemory "github.com/authd/authd/internal/replay/memory"
	"github.com/authd/authd/internal/store"
)

func withDPoP(nonces bool) func(*harnessConfig) {
	return func(c *harnessConfig) {
		d := &httpapi.DPoP{Replay: rmemory.New(rmemory.Options{Now: c.now})}
		if nonces {
			n, err := dpop.NewNonces(make([]byte, 32), time.Minute)
			if err != nil {
				panic(err)
			}
			d.Nonces = n
		}
		c.api.DPoP, c.api.Now = d, c.now
	}
}

// prover makes DPoP proofs (RFC 9449 §4.2) with one key.
type prover struct {
	t   *testing.T
	key *ecdsa.PrivateKey
	now func() time.Time
	n   int
}

func newProver(t *testing.T, now func() time.Time) *prover {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	return &prover{t: t, key: k, now: now}
}

func (p *prover) jkt() string {
	jwk := jose.JSONWebKey{Key: &p.key.PublicKey}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		p.t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(tp)
}

func (p *prover) proof(method, uri, accessToken, nonce string) string {
	p.t.Helper()
	p.n++
	jwk := jose.JSONWebKey{Key: &p.key.PublicKey}
	opts := (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt")
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: p.key}, opts)
	if err != nil {
		p.t.Fatal(err)
	}
	_ = jwk
	claims := map[string]any{"jti": "proof-" + strings.Repeat("x", p.n%5) + time.Now().Format(time.RFC3339Nano),
		"htm": method, "htu": uri, "iat": p.now().Unix()}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	b, _ := json.Marshal(claims)
	jws, err := s.Sign(b)
	if err != nil {
		p.t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		p.t.Fatal(err)
	}
	return out
}

func withDPoPProof(proof string) reqOpt { return withHeader("DPoP", proof) }

// TestDPoP walks RFC 9449 with a public client: a proof at the token
// endpoint binds the access token (token_type DPoP, cnf.jkt) and the
// refresh token; the refresh needs the same key; the access token works at
// userinfo only with the DPoP scheme and a proof by that key; replayed,
// misaddressed and foreign proofs are refused.
func TestDPoP(t *testing.T) {
	h, u := userSetup(t, withDPoP(false))
	p := newProver(t, h.clock.Now)
	thief := newProver(t, h.clock.Now)
	tokenURL := issuer + httpapi.PathToken

	proof := p.proof("POST", tokenURL, "", "")
	status, tok := h.exchange(codeForm(h.code("c1", "spa", u.ID, "openid read", nil), "spa"), withDPoPProof(proof))
	if status != http.StatusOK || tok["token_type"] != "DPoP" {
		t.Fatalf("token with a proof: %d %v", status, tok)
	}
	at, rt := tok["access_token"].(string), tok["refresh_token"].(string)
	info := h.introspect("web", "web-secret", at)
	if cnf, _ := info["cnf"].(map[string]any); info["token_type"] != "DPoP" || cnf["jkt"] != p.jkt() {
		t.Fatalf("introspection: %v, want cnf.jkt %s", info, p.jkt())
	}
	// The same proof again is a replay (RFC 9449 §11.1).
	if status, body := h.exchange(codeForm(h.code("c2", "spa", u.ID, "openid", nil), "spa"), withDPoPProof(proof)); status != 400 || body["error"] != "invalid_dpop_proof" {
		t.Fatalf("replayed proof: %d %v", status, body)
	}
	for _, tc := range []struct{ name, proof string }{
		{"another endpoint's htu", p.proof("POST", issuer+httpapi.PathRevoke, "", "")},
		{"another method", p.proof("GET", tokenURL, "", "")},
		{"not a JWT", "nope"},
	} {
		if status, body := h.exchange(codeForm(h.code("c-"+tc.name, "spa", u.ID, "openid", nil), "spa"), withDPoPProof(tc.proof)); status != 400 || body["error"] != "invalid_dpop_proof" {
			t.Errorf("%s: %d %v", tc.name, status, body)
		}
	}

	// The public client's refresh token is bound: a thief's key or no proof
	// is refused and spends nothing; the owner's key refreshes.
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"spa"}}
	if status, body := h.exchange(refresh, withDPoPProof(thief.proof("POST", tokenURL, "", ""))); status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("refresh with another key: %d %v", status, body)
	}
	if status, body := h.exchange(refresh); status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("refresh without a proof: %d %v", status, body)
	}
	if status, body := h.exchange(refresh, withDPoPProof(p.proof("POST", tokenURL, "", ""))); status != 200 || body["token_type"] != "DPoP" {
		t.Fatalf("refresh with the bound key: %d %v", status, body)
	}

	// Userinfo (RFC 9449 §7): the DPoP scheme and a proof of the token's key
	// whose ath is the token's hash.
	ui := issuer + httpapi.PathUserInfo
	get := func(opts ...reqOpt) (int, string, map[string]any) {
		w := h.do(http.MethodGet, httpapi.PathUserInfo, "", "", opts...)
		return w.Code, w.Header().Get("WWW-Authenticate"), decodeJSON(t, w.Body.Bytes())
	}
	if code, _, body := get(withHeader("Authorization", "DPoP "+at), withDPoPProof(p.proof("GET", ui, at, ""))); code != 200 || body["sub"] != u.ID {
		t.Fatalf("userinfo with DPoP: %d %v", code, body)
	}
	for _, tc := range []struct {
		name   string
		opts   []reqOpt
		status int
		scheme string
	}{
		{"as Bearer", []reqOpt{withBearer(at)}, 401, "Bearer"},
		{"DPoP scheme without a proof", []reqOpt{withHeader("Authorization", "DPoP "+at)}, 401, "DPoP"},
		{"a thief's proof", []reqOpt{withHeader("Authorization", "DPoP "+at), withDPoPProof(thief.proof("GET", ui, at, ""))}, 401, "Bearer"},
		{"a proof for another token", []reqOpt{withHeader("Authorization", "DPoP "+at), withDPoPProof(p.proof("GET", ui, "other", ""))}, 401, "DPoP"},
	} {
		if code, challenge, body := get(tc.opts...); code != tc.status || !strings.HasPrefix(challenge, tc.scheme) {
			t.Errorf("userinfo %s: %d %q %v", tc.name, code, challenge, body)
		}
	}
	// A bearer token is not presented as DPoP.
	_, plain := h.exchange(codeForm(h.code("c3", "spa", u.ID, "openid read", nil), "spa"))
	bt := plain["access_token"].(string)
	if code, _, _ := get(withHeader("Authorization", "DPoP "+bt), withDPoPProof(p.proof("GET", ui, bt, ""))); code != 401 {
		t.Fatalf("a bearer token as DPoP: %d", code)
	}
	if code, _, _ := get(withBearer(bt)); code != 200 {
		t.Fatalf("a bearer token as Bearer: %d", code)
	}
	disc := decodeJSON(t, h.do(http.MethodGet, "/.well-known/oauth-authorization-server", "", "").Body.Bytes())
	if algs, _ := disc["dpop_signing_alg_values_supported"].([]any); len(algs) == 0 {
		t.Fatalf("dpop_signing_alg_values_supported missing: %v", disc)
	}
}

// TestDPoPCodeBinding: a code requested with dpop_jkt (RFC 9449 §10) is
// redeemed only with a proof by that key.
func TestDPoPCodeBinding(t *testing.T) {
	h, u := userSetup(t, withDPoP(false))
	p, other := newProver(t, h.clock.Now), newProver(t, h.clock.Now)
	tokenURL := issuer + httpapi.PathToken
	bind := func(c *store.AuthCode) { c.DPoPJKT = p.jkt() }
	if status, body := h.exchange(codeForm(h.code("b1", "spa", u.ID, "openid", bind), "spa"), withDPoPProof(other.proof("POST", tokenURL, "", ""))); status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("bound code with another key: %d %v", status, body)
	}
	if status, _ := h.exchange(codeForm(h.code("b2", "spa", u.ID, "openid", bind), "spa")); status != 400 {
		t.Fatalf("bound code without a proof: %d", status)
	}
	if status, body := h.exchange(codeForm(h.code("b3", "spa", u.ID, "openid", bind), "spa"), withDPoPProof(p.proof("POST", tokenURL, "", ""))); status != 200 {
		t.Fatalf("bound code with its key: %d %v", status, body)
	}
}

// TestDPoPNonce: with server nonces (RFC 9449 §8), a proof without one is
// answered use_dpop_nonce and the nonce to use; with it, it passes.
func TestDPoPNonce(t *testing.T) {
	h, u := userSetup(t, withDPoP(true))
	p := newProver(t, h.clock.Now)
	tokenURL := issuer + httpapi.PathToken
	w := h.postForm(httpapi.PathToken, codeForm(h.code("n1", "spa", u.ID, "openid", nil), "spa"), withDPoPProof(p.proof("POST", tokenURL, "", "")))
	nonce := w.Header().Get("DPoP-Nonce")
	if body := decodeJSON(t, w.Body.Bytes()); w.Code != 400 || body["error"] != "use_dpop_nonce" || nonce == "" {
		t.Fatalf("proof without a nonce: %d %v nonce %q", w.Code, body, nonce)
	}
	if status, body := h.exchange(codeForm(h.code("n2", "spa", u.ID, "openid", nil), "spa"), withDPoPProof(p.proof("POST", tokenURL, "", nonce))); status != 200 {
		t.Fatalf("proof with the nonce: %d %v", status, body)
	}
}

// A client registered with dpop_bound_access_tokens (RFC 9449 §5.2) gets no
// token without a proof; a confidential client's refresh token is not bound
// (it proves itself at every refresh), its access tokens are.
func TestDPoPBoundClient(t *testing.T) {
	h, u := userSetup(t, withDPoP(false))
	p := newProver(t, h.clock.Now)
	h.addClient("strict", "strict-secret", func(c *oauth.Client) { c.Metadata.DPoPBoundAccessTokens = true })
	f := url.Values{"grant_type": {"client_credentials"}}
	if status, body := h.exchange(f, withBasic("strict", "strict-secret")); status != 400 || body["error"] != "invalid_dpop_proof" {
		t.Fatalf("without a proof: %d %v", status, body)
	}
	if status, body := h.exchange(f, withBasic("strict", "strict-secret"), withDPoPProof(p.proof("POST", issuer+httpapi.PathToken, "", ""))); status != 200 || body["token_type"] != "DPoP" {
		t.Fatalf("with a proof: %d %v", status, body)
	}
	// web is confidential: its refresh token is bearer, refreshed without a proof.
	cf := codeForm(h.code("w1", "web", u.ID, "openid read", nil), "web")
	cf.Del("client_id")
	status, tok := h.exchange(cf, withBasic("web", "web-secret"), withDPoPProof(p.proof("POST", issuer+httpapi.PathToken, "", "")))
	if status != 200 || tok["token_type"] != "DPoP" {
		t.Fatalf("confidential code exchange with a proof: %d %v", status, tok)
	}
	if status, body := h.exchange(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}},
		withBasic("web", "web-secret")); status != 200 || body["token_type"] != "Bearer" {
		t.Fatalf("confidential refresh without a proof: %d %v", status, body)
	}
}
