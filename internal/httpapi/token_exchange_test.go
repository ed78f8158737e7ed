package httpapi_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/internal/httpapi"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/replay/memory"
	"github.com/authd/authd/internal/secevent"
	"github.com/authd/authd/internal/store"
	"github.com/authd/authd/internal/token"
)

// idp is a trusted issuer's signing key and the key source that serves
// it (the fetcher's place; the real fetch is in cmd/authd's end-to-end test).
type idp struct {
	t   testing.TB
	iss string
	key *ecdsa.PrivateKey
}

func newIDP(t testing.TB, iss string) *idp {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &idp{t: t, iss: iss, key: k}
}

// idpKeys is token.IssuerKeys over the test issuers.
type idpKeys map[string]*idp

func (m idpKeys) Keys(_ context.Context, issuer, _, kid string) ([]jose.JSONWebKey, error) {
	p := m[issuer]
	if p == nil || (kid != "" && kid != "k1") {
		return nil, nil
	}
	return []jose.JSONWebKey{{Key: &p.key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}, nil
}

// sign signs claims as the issuer (iss added unless given).
func (p *idp) sign(claims map[string]any) string {
	p.t.Helper()
	if _, ok := claims["iss"]; !ok {
		claims["iss"] = p.iss
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: p.key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		p.t.Fatal(err)
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

type exchangeHarness struct {
	*harness
	user   *store.User
	idp    *idp
	anon   *idp // subject_mapping none
	events *eventLog
}

const (
	idpIssuer  = "https://idp.example"
	anonIssuer = "https://workload.example"
	teGrant    = oauth.GrantTokenExchange
	atType     = token.TokenTypeAccessToken
	jwtType    = token.TokenTypeJWT
)

func newExchangeHarness(t testing.TB) *exchangeHarness {
	ev := &eventLog{}
	p, anon := newIDP(t, idpIssuer), newIDP(t, anonIssuer)
	rp := memory.New(memory.Options{})
	h := newHarness(t, func(c *harnessConfig) {
		c.deps.Events = ev
		c.deps.IssuerKeys = idpKeys{idpIssuer: p, anonIssuer: anon}
		c.deps.Replay = rp
	})
	ctx := context.Background()
	for _, ti := range []*store.TrustedIssuer{
		{ID: "ti-idp", Issuer: idpIssuer, Audience: issuer, SubjectMapping: oauth.SubjectMappingUsername},
		{ID: "ti-anon", Issuer: anonIssuer, Audience: issuer, SubjectMapping: oauth.SubjectMappingNone},
	} {
		if err := h.db.CreateTrustedIssuer(ctx, ti); err != nil {
			t.Fatal(err)
		}
	}
	u, err := h.accounts.Create(ctx, "alice", "correct horse battery staple", "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	h.addClient("web", "web-secret", func(c *oauth.Client) {
		c.GrantTypes = []string{oauth.GrantPassword, oauth.GrantRefreshToken}
		c.Scopes = []string{"openid", "read", "write"}
	})
	h.addClient("svc-a", "a-secret", func(c *oauth.Client) {
		c.GrantTypes = []string{oauth.GrantClientCredentials, teGrant, oauth.GrantJWTBearer}
		c.Scopes = []string{"openid", "read", "write"}
	})
	h.addClient("imp", "imp-secret", func(c *oauth.Client) {
		c.GrantTypes = []string{oauth.GrantClientCredentials, teGrant}
		c.Scopes = []string{"read", "write"}
		c.AccessTokenFormat = oauth.FormatOpaque
		c.Metadata.AllowImpersonation = true
	})
	return &exchangeHarness{harness: h, user: u, idp: p, anon: anon, events: ev}
}

// userToken is alice's access token (password grant, scope read write).
func (h *exchangeHarness) userToken(scope string) map[string]any {
	h.t.Helper()
	code, tok := h.exchange(url.Values{"grant_type": {"password"}, "username": {"alice"},
		"password": {"correct horse battery staple"}, "scope": {scope}}, withBasic("web", "web-secret"))
	if code != 200 {
		h.t.Fatalf("password grant: %d %v", code, tok)
	}
	return tok
}

func exchangeForm(subject, subjectType string, extra url.Values) url.Values {
	f := url.Values{"grant_type": {teGrant}, "subject_token": {subject}, "subject_token_type": {subjectType}}
	for k, v := range extra {
		f[k] = v
	}
	return f
}

// TestTokenExchangeErrors: each refusal RFC 8693 §2.2.2 (and RFC 6749 §5.2)
// names, with the code it names.
func TestTokenExchangeErrors(t *testing.T) {
	h := newExchangeHarness(t)
	alice := h.userToken("read")["access_token"].(string)
	actorA := h.token("svc-a", "a-secret", url.Values{"scope": {"read"}})
	now := h.clock.Now().Unix()
	ext := func(mod func(map[string]any)) string {
		c := map[string]any{"sub": "alice", "aud": issuer, "exp": now + 600, "iat": now, "jti": "j"}
		if mod != nil {
			mod(c)
		}
		return h.idp.sign(c)
	}
	untrusted := newIDP(t, "https://evil.example").sign(map[string]any{"sub": "alice", "aud": issuer, "exp": now + 600})
	deep := map[string]any{"sub": "a1"}
	for i := 2; i <= token.MaxActorDepth; i++ {
		deep = map[string]any{"sub": "a" + string(rune('0'+i)), "act": deep}
	}
	actorForm := url.Values{"actor_token": {actorA}, "actor_token_type": {atType}}
	with := func(base url.Values, kv ...string) url.Values {
		f := url.Values{}
		for k, v := range base {
			f[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}
	tests := []struct {
		name       string
		client     [2]string
		form       url.Values
		wantStatus int
		wantErr    string
	}{
		{"no subject_token", [2]string{"svc-a", "a-secret"}, url.Values{"grant_type": {teGrant}, "subject_token_type": {atType}}, 400, "invalid_request"},
		{"no subject_token_type", [2]string{"svc-a", "a-secret"}, url.Values{"grant_type": {teGrant}, "subject_token": {alice}}, 400, "invalid_request"},
		{"unknown subject_token_type", [2]string{"svc-a", "a-secret"}, exchangeForm(alice, "urn:x:saml", actorForm), 400, "invalid_request"},
		{"actor_token without type", [2]string{"svc-a", "a-secret"}, exchangeForm(alice, atType, url.Values{"actor_token": {actorA}}), 400, "invalid_request"},
		{"invalid subject_token", [2]string{"svc-a", "a-secret"}, exchangeForm("not-a-token", atType, actorForm), 400, "invalid_request"},
		{"subject_token of the wrong type", [2]string{"svc-a", "a-secret"}, exchangeForm(alice, token.TokenTypeIDToken, actorForm), 400, "invalid_request"},
		{"untrusted issuer", [2]string{"svc-a", "a-secret"}, exchangeForm(untrusted, jwtType, actorForm), 400, "invalid_request"},
		{"audience mismatch", [2]string{"svc-a", "a-secret"}, exchangeForm(ext(func(c map[string]any) { c["aud"] = "https://other.example" }), jwtType, actorForm), 400, "invalid_request"},
		{"expired trusted JWT", [2]string{"svc-a", "a-secret"}, exchangeForm(ext(func(c map[string]any) { c["exp"] = now - 60 }), jwtType, actorForm), 400, "invalid_request"},
		{"trusted JWT without exp", [2]string{"svc-a", "a-secret"}, exchangeForm(ext(func(c map[string]any) { delete(c, "exp") }), jwtType, actorForm), 400, "invalid_request"},
		{"sub names nobody", [2]string{"svc-a", "a-secret"}, exchangeForm(ext(func(c map[string]any) { c["sub"] = "mallory" }), jwtType, actorForm), 400, "invalid_request"},
		{"subject_mapping none as subject", [2]string{"svc-a", "a-secret"}, exchangeForm(h.anon.sign(map[string]any{"sub": "w", "aud": issuer, "exp": now + 60}), jwtType, actorForm), 400, "invalid_request"},
		{"scope widening", [2]string{"svc-a", "a-secret"}, with(exchangeForm(alice, atType, actorForm), "scope", "read write"), 400, "invalid_scope"},
		{"impersonation not allowed", [2]string{"svc-a", "a-secret"}, exchangeForm(alice, atType, nil), 400, "unauthorized_client"},
		{"may_act mismatch", [2]string{"svc-a", "a-secret"}, exchangeForm(ext(func(c map[string]any) { c["may_act"] = map[string]any{"sub": "svc-b"} }), jwtType, actorForm), 400, "invalid_request"},
		{"actor chain depth limit", [2]string{"svc-a", "a-secret"}, exchangeForm(ext(func(c map[string]any) { c["act"] = deep }), jwtType, actorForm), 400, "invalid_request"},
		{"actor token of another client", [2]string{"imp", "imp-secret"}, exchangeForm(alice, atType, actorForm), 400, "invalid_request"},
		{"unknown audience", [2]string{"svc-a", "a-secret"}, with(exchangeForm(alice, atType, actorForm), "audience", "https://api.unknown.example"), 400, "invalid_target"},
		{"unknown resource", [2]string{"svc-a", "a-secret"}, with(exchangeForm(alice, atType, actorForm), "resource", "https://api.unknown.example"), 400, "invalid_target"},
		{"requested id_token", [2]string{"svc-a", "a-secret"}, with(exchangeForm(alice, atType, actorForm), "requested_token_type", token.TokenTypeIDToken), 400, "invalid_request"},
		{"client not registered for the grant", [2]string{"web", "web-secret"}, exchangeForm(alice, atType, nil), 400, "unauthorized_client"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := h.exchange(tc.form, withBasic(tc.client[0], tc.client[1]))
			if code != tc.wantStatus || body["error"] != tc.wantErr {
				t.Fatalf("%d %v, want %d %s", code, body, tc.wantStatus, tc.wantErr)
			}
		})
	}
}

// TestTokenExchangeDelegation: an actor token makes the new token carry
// act (RFC 8693 §4.1), nested when the subject token already had one; the
// scope narrows, the lifetime is the subject token's at most, and the token
// belongs to the subject token's grant, so revoking that grant ends it.
func TestTokenExchangeDelegation(t *testing.T) {
	h := newExchangeHarness(t)
	tok := h.userToken("read write")
	alice := tok["access_token"].(string)
	actorA := h.token("svc-a", "a-secret", url.Values{"scope": {"read"}})

	h.clock.Advance(50 * time.Minute) // alice's token has 10 minutes left
	code, out := h.exchange(exchangeForm(alice, atType, url.Values{"actor_token": {actorA}, "actor_token_type": {atType},
		"scope": {"read"}, "requested_token_type": {jwtType}}), withBasic("svc-a", "a-secret"))
	if code != 200 || out["issued_token_type"] != jwtType || out["token_type"] != "Bearer" || out["scope"] != "read" ||
		out["refresh_token"] != nil || out["expires_in"].(float64) > 600 {
		t.Fatalf("exchange: %d %v", code, out)
	}
	hop1 := out["access_token"].(string)
	claims := verifyWithJWKS(t, h.harness, hop1)
	act, _ := claims["act"].(map[string]any)
	if claims["sub"] != h.user.ID || claims["client_id"] != "svc-a" || act["sub"] != "svc-a" || act["iss"] != issuer || act["act"] != nil {
		t.Fatalf("hop 1 claims = %v", claims)
	}
	// Hop 2: the impersonating client exchanges hop 1 by itself; the chain
	// stays. Then hop 1 again as subject with svc-a acting once more: nested.
	code, out = h.exchange(exchangeForm(hop1, jwtType, url.Values{"actor_token": {actorA}, "actor_token_type": {atType}}),
		withBasic("svc-a", "a-secret"))
	if code != 200 {
		t.Fatalf("hop 2: %d %v", code, out)
	}
	info := h.introspect("svc-a", "a-secret", out["access_token"].(string))
	act, _ = info["act"].(map[string]any)
	inner, _ := act["act"].(map[string]any)
	if info["active"] != true || act["sub"] != "svc-a" || inner["sub"] != "svc-a" {
		t.Fatalf("hop 2 introspection = %v", info)
	}
	// Opaque (the impersonating client's format) keeps act too.
	code, out = h.exchange(exchangeForm(hop1, jwtType, nil), withBasic("imp", "imp-secret"))
	if code != 200 || out["issued_token_type"] != atType {
		t.Fatalf("impersonation: %d %v", code, out)
	}
	opaque := out["access_token"].(string)
	if strings.Count(opaque, ".") != 0 {
		t.Fatalf("not opaque: %s", opaque)
	}
	info = h.introspect("imp", "imp-secret", opaque)
	if act, _ := info["act"].(map[string]any); info["active"] != true || info["sub"] != h.user.ID || act["sub"] != "svc-a" {
		t.Fatalf("opaque introspection = %v", info)
	}
	// Batch introspection shows the chain as well.
	b, _ := json.Marshal(map[string]any{"tokens": []string{hop1, opaque}})
	w := h.do(http.MethodPost, httpapi.PathIntrospectBatch, "application/json", string(b), withBasic("svc-a", "a-secret"))
	if w.Code != 200 || strings.Count(w.Body.String(), `"act":{"sub":"svc-a","iss":"`+issuer+`"}`) != 2 {
		t.Fatalf("batch introspection: %d %s", w.Code, w.Body)
	}

	// The audit trail names subject, actor and client.
	var exchanged []secevent.Event
	for _, e := range h.events.evs {
		if e.Type == secevent.TokenExchanged {
			exchanged = append(exchanged, e)
		}
	}
	if len(exchanged) != 3 || exchanged[0].Subject != h.user.ID || exchanged[0].ClientID != "svc-a" || exchanged[0].Detail["actor"] != "svc-a" ||
		exchanged[2].Detail["actor"] != "" || exchanged[2].ClientID != "imp" {
		t.Fatalf("token.exchanged events = %+v", exchanged)
	}

	// Revoking alice's grant (her refresh token, RFC 7009 §2.1) ends every
	// token exchanged from it.
	if w := h.postForm(httpapi.PathRevoke, url.Values{"token": {tok["refresh_token"].(string)}}, withBasic("web", "web-secret")); w.Code != 200 {
		t.Fatalf("revoke: %d %s", w.Code, w.Body)
	}
	for name, tk := range map[string]string{"hop 1 (JWT)": hop1, "impersonation (opaque)": opaque} {
		if info := h.introspect("svc-a", "a-secret", tk); info["active"] != false {
			t.Fatalf("%s after its grant was revoked: %v", name, info)
		}
	}
	code, out = h.exchange(exchangeForm(hop1, jwtType, url.Values{"actor_token": {actorA}, "actor_token_type": {atType}}),
		withBasic("svc-a", "a-secret"))
	if code != 400 || out["error"] != "invalid_request" {
		t.Fatalf("exchanging a revoked token: %d %v", code, out)
	}
}

// TestTokenExchangeTrustedIssuer: a trusted issuer's JWT is exchanged for
// a token of the user its sub names; may_act naming the actor is honoured,
// and an actor from an issuer that maps no users is named by its own sub.
func TestTokenExchangeTrustedIssuer(t *testing.T) {
	h := newExchangeHarness(t)
	now := h.clock.Now().Unix()
	subject := h.idp.sign(map[string]any{"sub": "alice", "aud": issuer, "exp": now + 300, "scope": "read",
		"may_act": map[string]any{"sub": "spiffe://w/svc", "iss": anonIssuer}})
	actor := h.anon.sign(map[string]any{"sub": "spiffe://w/svc", "aud": issuer, "exp": now + 60})
	code, out := h.exchange(exchangeForm(subject, jwtType, url.Values{"actor_token": {actor}, "actor_token_type": {jwtType}}),
		withBasic("svc-a", "a-secret"))
	if code != 200 || out["scope"] != "read" || out["expires_in"].(float64) > 300 {
		t.Fatalf("exchange: %d %v", code, out)
	}
	claims := verifyWithJWKS(t, h.harness, out["access_token"].(string))
	act, _ := claims["act"].(map[string]any)
	if claims["sub"] != h.user.ID || act["sub"] != "spiffe://w/svc" || act["iss"] != anonIssuer {
		t.Fatalf("claims = %v", claims)
	}
	// Scope beyond the subject JWT's is refused.
	code, out = h.exchange(exchangeForm(subject, jwtType, url.Values{"actor_token": {actor}, "actor_token_type": {jwtType}, "scope": {"write"}}),
		withBasic("svc-a", "a-secret"))
	if code != 400 || out["error"] != "invalid_scope" {
		t.Fatalf("widening: %d %v", code, out)
	}
}

// TestJWTBearerGrant: RFC 7523 §2.1 with a trusted issuer's assertion, and
// each refusal as invalid_grant (§3.1).
func TestJWTBearerGrant(t *testing.T) {
	h := newExchangeHarness(t)
	now := h.clock.Now().Unix()
	assertion := func(p *idp, mod func(map[string]any)) string {
		c := map[string]any{"sub": "alice", "aud": issuer, "exp": now + 120, "iat": now, "jti": "jti-" + t.Name()}
		if mod != nil {
			mod(c)
		}
		return p.sign(c)
	}
	form := func(a string) url.Values {
		return url.Values{"grant_type": {oauth.GrantJWTBearer}, "assertion": {a}, "scope": {"read"}}
	}
	good := assertion(h.idp, func(c map[string]any) { c["jti"] = "once" })
	code, out := h.exchange(form(good), withBasic("svc-a", "a-secret"))
	if code != 200 || out["refresh_token"] != nil || out["scope"] != "read" {
		t.Fatalf("jwt-bearer: %d %v", code, out)
	}
	if claims := verifyWithJWKS(t, h.harness, out["access_token"].(string)); claims["sub"] != h.user.ID {
		t.Fatalf("claims = %v", claims)
	}
	tests := []struct {
		name string
		form url.Values
	}{
		{"replayed assertion", form(good)},
		{"subject_mapping none", form(assertion(h.anon, nil))},
		{"untrusted issuer", form(assertion(newIDP(t, "https://evil.example"), nil))},
		{"audience mismatch", form(assertion(h.idp, func(c map[string]any) { c["aud"] = "https://other.example" }))},
		{"no exp", form(assertion(h.idp, func(c map[string]any) { delete(c, "exp") }))},
		{"exp too far", form(assertion(h.idp, func(c map[string]any) { c["exp"] = now + 7200 }))},
		{"expired", form(assertion(h.idp, func(c map[string]any) { c["exp"] = now - 60 }))},
		{"no jti", form(assertion(h.idp, func(c map[string]any) { delete(c, "jti") }))},
		{"sub names nobody", form(assertion(h.idp, func(c map[string]any) { c["sub"] = "mallory" }))},
		{"not a JWT", form("garbage")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := h.exchange(tc.form, withBasic("svc-a", "a-secret"))
			if code != 400 || body["error"] != "invalid_grant" {
				t.Fatalf("%d %v, want 400 invalid_grant", code, body)
			}
		})
	}
	if code, body := h.exchange(url.Values{"grant_type": {oauth.GrantJWTBearer}}, withBasic("svc-a", "a-secret")); code != 400 || body["error"] != "invalid_request" {
		t.Fatalf("no assertion: %d %v", code, body)
	}
}

// TestTokenExchangeIDToken: an id_token authd issued is a subject token for
// the client it was issued to (its aud), by either token type, and for no
// other client.
func TestTokenExchangeIDToken(t *testing.T) {
	h := newExchangeHarness(t)
	h.addClient("app", "app-secret", func(c *oauth.Client) {
		c.GrantTypes = []string{oauth.GrantPassword, teGrant}
		c.Scopes = []string{"openid", "read"}
		c.Metadata.AllowImpersonation = true
	})
	code, tok := h.exchange(url.Values{"grant_type": {"password"}, "username": {"alice"},
		"password": {"correct horse battery staple"}, "scope": {"openid read"}}, withBasic("app", "app-secret"))
	if code != 200 || tok["id_token"] == nil {
		t.Fatalf("password grant: %d %v", code, tok)
	}
	idToken := tok["id_token"].(string)
	foreign := h.userToken("openid read")["id_token"].(string) // issued to web
	tests := []struct {
		name    string
		tok     string
		typ     string
		wantErr string
	}{
		{"as id_token", idToken, token.TokenTypeIDToken, ""},
		{"as jwt", idToken, jwtType, ""},
		{"another client's", foreign, token.TokenTypeIDToken, "invalid_request"},
		{"an access token as id_token", tok["access_token"].(string), token.TokenTypeIDToken, "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out := h.exchange(exchangeForm(tc.tok, tc.typ, url.Values{"scope": {"read"}}), withBasic("app", "app-secret"))
			if tc.wantErr != "" {
				if code != 400 || out["error"] != tc.wantErr {
					t.Fatalf("%d %v, want %s", code, out, tc.wantErr)
				}
				return
			}
			if code != 200 || out["id_token"] != nil || out["refresh_token"] != nil {
				t.Fatalf("%d %v", code, out)
			}
			if info := h.introspect("app", "app-secret", out["access_token"].(string)); info["active"] != true || info["sub"] != h.user.ID || info["scope"] != "read" {
				t.Fatalf("introspection = %v", info)
			}
		})
	}
}

// TestJWTBearerConcurrentReplay: of many requests racing with one
// assertion, exactly one gets a token (RFC 7523 §3 item 7, through the
// shared replay record).
func TestJWTBearerConcurrentReplay(t *testing.T) {
	h := newExchangeHarness(t)
	now := h.clock.Now().Unix()
	a := h.idp.sign(map[string]any{"sub": "alice", "aud": issuer, "exp": now + 60, "jti": "raced"})
	form := url.Values{"grant_type": {oauth.GrantJWTBearer}, "assertion": {a}}.Encode()
	const racers = 16
	codes := make(chan int, racers)
	start := make(chan struct{})
	for range racers {
		go func() {
			<-start
			codes <- h.do(http.MethodPost, httpapi.PathToken, "application/x-www-form-urlencoded", form, withBasic("svc-a", "a-secret")).Code
		}()
	}
	close(start)
	won := 0
	for range racers {
		switch c := <-codes; c {
		case 200:
			won++
		case 400:
		default:
			t.Errorf("status %d", c)
		}
	}
	if won != 1 {
		t.Fatalf("%d of %d racers got a token, want 1", won, racers)
	}
}

// TestTokenExchangeResource: an audience or resource that names a
// registered resource (RFC 8707) makes it the token's aud, with its scopes,
// format and lifetime; authd's issuer as audience is the default target.
func TestTokenExchangeResource(t *testing.T) {
	h := newExchangeHarness(t)
	const api = "https://api.example.com/orders"
	if err := h.db.CreateResource(context.Background(), &store.Resource{ID: "res-orders", Indicator: api, Name: "orders",
		Scopes: []string{"read"}, AccessTokenFormat: oauth.FormatJWT, AccessTokenTTL: 2 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	alice := h.userToken("read write")["access_token"].(string)
	actor := url.Values{"actor_token": {h.token("svc-a", "a-secret", nil)}, "actor_token_type": {atType}}
	for _, tc := range []struct {
		name, param, value string
		wantAud            string
		wantScope          string
		maxTTL             float64
	}{
		{"audience names the resource", "audience", api, api, "read", 120},
		{"resource names it", "resource", api, api, "read", 120},
		{"audience is this server", "audience", issuer, issuer, "read write", 3600},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := exchangeForm(alice, atType, actor)
			f.Set(tc.param, tc.value)
			code, out := h.exchange(f, withBasic("svc-a", "a-secret"))
			if code != 200 || out["scope"] != tc.wantScope || out["expires_in"].(float64) > tc.maxTTL {
				t.Fatalf("%d %v", code, out)
			}
			if claims := verifyWithJWKS(t, h.harness, out["access_token"].(string)); claims["aud"] != tc.wantAud {
				t.Fatalf("aud = %v, want %s", claims["aud"], tc.wantAud)
			}
		})
	}
	f := exchangeForm(alice, atType, actor)
	f["audience"] = []string{issuer, api}
	if code, out := h.exchange(f, withBasic("svc-a", "a-secret")); code != 400 || out["error"] != "invalid_target" {
		t.Fatalf("two targets: %d %v", code, out)
	}
}

// TestTokenExchangeRacingRevocation: exchanges running while the subject
// token's grant is revoked either fail or yield a token that is inactive
// once the revocation has returned: none outlives the grant.
func TestTokenExchangeRacingRevocation(t *testing.T) {
	h := newExchangeHarness(t)
	tok := h.userToken("read")
	alice := tok["access_token"].(string)
	actor := url.Values{"actor_token": {h.token("svc-a", "a-secret", nil)}, "actor_token_type": {atType}}
	form := exchangeForm(alice, atType, actor).Encode()
	const racers = 12
	issued := make(chan string, racers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			w := h.do(http.MethodPost, httpapi.PathToken, "application/x-www-form-urlencoded", form, withBasic("svc-a", "a-secret"))
			if w.Code == 200 {
				var out map[string]any
				_ = json.Unmarshal(w.Body.Bytes(), &out)
				issued <- out["access_token"].(string)
			}
		}()
	}
	close(start)
	if w := h.postForm(httpapi.PathRevoke, url.Values{"token": {tok["refresh_token"].(string)}}, withBasic("web", "web-secret")); w.Code != 200 {
		t.Fatalf("revoke: %d %s", w.Code, w.Body)
	}
	wg.Wait()
	close(issued)
	for at := range issued {
		if info := h.introspect("svc-a", "a-secret", at); info["active"] != false {
			t.Fatalf("a token exchanged from a revoked grant is active: %v", info)
		}
	}
}
