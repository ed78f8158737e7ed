package assertion_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/internal/clientauth/assertion"
	"github.com/authd/authd/internal/fault"
	"github.com/authd/authd/internal/oauth"
)

// defaultKey is the fixture key a client's own assertions are signed with.
var defaultKey = map[string]string{
	"app-es256": "ES256", "app-es384": "ES384", "app-rs256": "RS256", "app-ps256": "PS256",
	"app-eddsa": "EdDSA", "app-ed25519": "Ed25519", "app-noalg": "ES256", "app-enc": "ES256",
	"app-rsa1024": "RSA1024", "app-two": "ES256", "app-uri": "RS256", "app-both": "ES256",
	"app-nokeys": "ES256", "app-strict": "ES256", "app-basic": "ES256",
}

// ownCase describes one client assertion: whose, signed how, with what claims,
// sent how, and the outcome.
type ownCase struct {
	name   string
	client string // iss and sub; default app-es256
	key    string // fixture key; default defaultKey[client]; "-" for none (HMAC)
	alg    string // header alg; default the key's
	header map[string]any
	claims func(c map[string]any, now time.Time)
	secret []byte // HMAC key
	in     func(in *assertion.Input)
	raw    func(t testing.TB, e *env) string
	config func(*assertion.Config)
	env    func(e *env)
	want   assertion.Reason // "" for success
	status int              // when refused; default 401
}

func (tc ownCase) build(t testing.TB, e *env) assertion.Input {
	t.Helper()
	client := tc.client
	if client == "" {
		client = "app-es256"
	}
	var jwt string
	if tc.raw != nil {
		jwt = tc.raw(t, e)
	} else {
		claims := ownClaims(client, e.clk.Now())
		if tc.claims != nil {
			tc.claims(claims, e.clk.Now())
		}
		name := tc.key
		if name == "" {
			name = defaultKey[client]
		}
		k := e.k[name]
		if name == "-" {
			k = nil
		}
		jwt = signJWT(t, k, tc.alg, tc.header, claims, tc.secret)
	}
	in := bearer(jwt)
	if tc.in != nil {
		tc.in(&in)
	}
	return in
}

func runOwn(t *testing.T, cases []ownCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.config)
			if tc.env != nil {
				tc.env(e)
			}
			in := tc.build(t, e)
			res, err := e.authenticate(context.Background(), in)
			checkOutcome(t, in, res, err, tc.want, tc.status)
		})
	}
}

// checkOutcome asserts success, or a refusal for the wanted reason with the
// wanted wire error, and that the error shows neither assertion nor secret.
func checkOutcome(t *testing.T, in assertion.Input, res *assertion.Result, err error, want assertion.Reason, status int) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("refused: %v", err)
		}
		if res == nil || res.ClientID == "" {
			t.Fatalf("result %+v", res)
		}
		return
	}
	if err == nil {
		t.Fatalf("accepted (%+v), want refusal %q", res, want)
	}
	var ae *assertion.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error %T %v is not an *assertion.Error", err, err)
	}
	if ae.Reason != want {
		t.Fatalf("reason %q (%v), want %q", ae.Reason, err, want)
	}
	if status == 0 {
		status = http.StatusUnauthorized
	}
	oe, ok := oauth.As(err)
	if !ok {
		t.Fatalf("no oauth error in %v", err)
	}
	wantCode := oauth.CodeInvalidClient
	if status == http.StatusServiceUnavailable {
		wantCode = oauth.CodeTemporarilyUnavailable
	}
	if oe.Status != status || oe.Code != wantCode {
		t.Fatalf("wire %d %s, want %d %s", oe.Status, oe.Code, status, wantCode)
	}
	if want == assertion.ReasonUnavailable != assertion.Unavailable(err) {
		t.Fatalf("Unavailable(%v) = %v", err, assertion.Unavailable(err))
	}
	if !errors.Is(err, assertion.ErrInvalid) && !errors.Is(err, assertion.ErrUnavailable) {
		t.Fatalf("%v matches neither sentinel", err)
	}
	msg := err.Error() + " " + oe.Description
	if sig := in.Assertion[strings.LastIndexByte(in.Assertion, '.')+1:]; len(sig) > 8 && strings.Contains(msg, sig) {
		t.Fatalf("error shows the assertion's signature: %s", msg)
	}
	for _, s := range [][]byte{secret64, secret43} {
		if strings.Contains(msg, string(s)) {
			t.Fatalf("error shows a secret: %s", msg)
		}
	}
}

func setClaim(name string, v any) func(map[string]any, time.Time) {
	return func(c map[string]any, _ time.Time) {
		if v == nil {
			delete(c, name)
		} else {
			c[name] = v
		}
	}
}

func times(iat, exp time.Duration) func(map[string]any, time.Time) {
	return func(c map[string]any, now time.Time) {
		c["iat"] = now.Add(iat).Unix()
		c["exp"] = now.Add(exp).Unix()
	}
}

func TestAccept(t *testing.T) {
	runOwn(t, []ownCase{
		{name: "ES256", client: "app-es256"},
		{name: "ES384", client: "app-es384"},
		{name: "RS256", client: "app-rs256"},
		{name: "PS256", client: "app-ps256"},
		{name: "EdDSA", client: "app-eddsa"},
		{name: "Ed25519 (RFC 9864)", client: "app-ed25519"},
		{name: "Ed25519 header, key published as EdDSA", client: "app-eddsa", alg: "Ed25519"},
		{name: "EdDSA header, key published as Ed25519", client: "app-ed25519", alg: "EdDSA"},
		{name: "signed by go-jose", raw: func(t testing.TB, e *env) string {
			return signJose(t, e.k["ES256"], ownClaims("app-es256", e.clk.Now()))
		}},
		{name: "go-jose EdDSA", raw: func(t testing.TB, e *env) string {
			return signJose(t, e.k["EdDSA"], ownClaims("app-eddsa", e.clk.Now()))
		}},
		{name: "aud is the token endpoint", claims: setClaim("aud", tokenEndpoint)},
		{name: "aud array containing the issuer", claims: setClaim("aud", []string{"https://rs.example", issuer})},
		{name: "aud array containing the token endpoint", claims: setClaim("aud", []string{tokenEndpoint})},
		{name: "client_id parameter names the client", in: func(in *assertion.Input) { in.ClientID = "app-es256" }},
		{name: "jwks_uri", client: "app-uri"},
		{name: "jwks_uri second key", client: "app-uri", key: "ES256b"},
		{name: "no kid, one key", header: map[string]any{"kid": nil}},
		{name: "key without alg or use", client: "app-noalg"},
		{name: "typ client-authentication+jwt, aud the issuer", header: map[string]any{"typ": "client-authentication+jwt"}},
		{name: "typ application/JWT", header: map[string]any{"typ": "application/JWT"}},
		{name: "strict client, aud the issuer", client: "app-strict"},
		{name: "strict client, aud [issuer]", client: "app-strict", claims: setClaim("aud", []string{issuer})},
		{name: "HS256", client: "app-hs", key: "-", alg: "HS256", secret: secret64},
		{name: "HS384", client: "app-hs", key: "-", alg: "HS384", secret: secret64},
		{name: "HS512", client: "app-hs", key: "-", alg: "HS512", secret: secret64},
		{name: "HS256 with a 43-character generated secret", client: "app-hs-short", key: "-", alg: "HS256", secret: secret43},
		{name: "exp passed within leeway", claims: times(-time.Minute, -20*time.Second)},
		{name: "nbf ahead within leeway", claims: setClaim("nbf", start.Add(20*time.Second).Unix())},
		{name: "iat ahead within leeway", claims: times(20*time.Second, 2*time.Minute)},
		{name: "lifetime exactly the maximum", claims: times(0, 5*time.Minute)},
		{name: "no iat, exp 5 minutes ahead", claims: func(c map[string]any, now time.Time) {
			delete(c, "iat")
			c["exp"] = now.Add(5 * time.Minute).Unix()
		}},
		{name: "fractional NumericDate", claims: func(c map[string]any, now time.Time) {
			c["exp"] = float64(now.Add(time.Minute).Unix()) + 0.5
		}},
		{name: "longer maximum by configuration", claims: times(0, 9*time.Minute),
			config: func(c *assertion.Config) { c.MaxLifetime = 10 * time.Minute }},
		{name: "PAR endpoint as an extra audience", claims: setClaim("aud", issuer+"/oauth2/par"),
			config: func(c *assertion.Config) { c.OtherAudiences = []string{issuer + "/oauth2/par"} }},
	})
}

func TestReject(t *testing.T) {
	k := keys(t)
	pubDER, err := x509.MarshalPKIXPublicKey(k["RS256"].priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	pubJWK, err := json.Marshal(k["RS256"].public())
	if err != nil {
		t.Fatal(err)
	}
	unavailable := http.StatusServiceUnavailable
	runOwn(t, []ownCase{
		// The form values and the envelope.
		{name: "client_assertion_type missing", in: func(in *assertion.Input) { in.AssertionType = "" }, want: assertion.ReasonType},
		{name: "client_assertion_type saml2", in: func(in *assertion.Input) {
			in.AssertionType = "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"
		}, want: assertion.ReasonType},
		{name: "empty assertion", raw: func(testing.TB, *env) string { return "" }, want: assertion.ReasonMalformed},
		{name: "oversized", claims: setClaim("pad", strings.Repeat("x", assertion.MaxSize)), want: assertion.ReasonTooLarge},
		{name: "one byte over MaxSize", raw: func(testing.TB, *env) string {
			return strings.Repeat("a", assertion.MaxSize-3) + ".b.c"
		}, want: assertion.ReasonTooLarge},
		{name: "exactly MaxSize is parsed", raw: func(testing.TB, *env) string {
			return strings.Repeat("a", assertion.MaxSize-4) + ".b.c"
		}, want: assertion.ReasonMalformed},
		{name: "JWE (five parts)", raw: func(testing.TB, *env) string { return "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d" }, want: assertion.ReasonMalformed},
		{name: "JSON serialization", raw: func(testing.TB, *env) string { return `{"payload":"e30","signatures":[]}` }, want: assertion.ReasonMalformed},
		{name: "line break inside", raw: func(t testing.TB, e *env) string {
			s := signJWT(t, e.k["ES256"], "", nil, ownClaims("app-es256", e.clk.Now()), nil)
			return s[:10] + "\n" + s[10:]
		}, want: assertion.ReasonMalformed},
		{name: "empty signature", raw: func(t testing.TB, e *env) string {
			s := signJWT(t, e.k["ES256"], "", nil, ownClaims("app-es256", e.clk.Now()), nil)
			return s[:strings.LastIndexByte(s, '.')+1]
		}, want: assertion.ReasonMalformed},
		{name: "header not JSON", raw: func(testing.TB, *env) string { return b64([]byte("alg")) + ".e30.c2ln" }, want: assertion.ReasonMalformed},
		{name: "claims not JSON", raw: func(t testing.TB, e *env) string {
			return b64([]byte(`{"alg":"ES256","kid":"es256-1"}`)) + "." + b64([]byte("not json")) + ".c2ln"
		}, want: assertion.ReasonMalformed},
		{name: "claims an array", raw: func(t testing.TB, e *env) string {
			return b64([]byte(`{"alg":"ES256"}`)) + "." + b64([]byte("[1]")) + ".c2ln"
		}, want: assertion.ReasonMalformed},
		{name: "aud a number", claims: setClaim("aud", 5), want: assertion.ReasonMalformed},
		{name: "exp a string", claims: setClaim("exp", "tomorrow"), want: assertion.ReasonMalformed},

		// Algorithms.
		{name: "alg none", alg: "none", want: assertion.ReasonAlg},
		{name: "alg None", alg: "None", want: assertion.ReasonAlg},
		{name: "alg RS512 not accepted", client: "app-rs256", alg: "RS512", want: assertion.ReasonAlg},
		{name: "alg ES512 not accepted", alg: "ES512", want: assertion.ReasonAlg},
		{name: "HS256 keyed with the RSA public key (DER)", client: "app-rs256", key: "RS256", alg: "HS256", secret: pubDER, want: assertion.ReasonAlg},
		{name: "HS256 keyed with the public JWK", client: "app-rs256", key: "RS256", alg: "HS256", secret: pubJWK, want: assertion.ReasonAlg},
		{name: "asymmetric alg for client_secret_jwt", client: "app-hs", key: "ES256", want: assertion.ReasonAlg},

		// Headers.
		{name: "crit header", header: map[string]any{"crit": []string{"exp"}, "exp": 1}, want: assertion.ReasonHeader},
		{name: "b64 header", header: map[string]any{"b64": true}, want: assertion.ReasonHeader},
		{name: "typ at+jwt (an access token)", header: map[string]any{"typ": "at+jwt"}, want: assertion.ReasonHeader},
		{name: "typ dpop+jwt", header: map[string]any{"typ": "dpop+jwt"}, want: assertion.ReasonHeader},
		{name: "typ a number", header: map[string]any{"typ": 1}, want: assertion.ReasonHeader},

		// Required claims.
		{name: "missing iss", claims: setClaim("iss", nil), want: assertion.ReasonClaims},
		{name: "missing sub", claims: setClaim("sub", nil), want: assertion.ReasonClaims},
		{name: "missing exp", claims: setClaim("exp", nil), want: assertion.ReasonClaims},
		{name: "exp null", claims: setClaim("exp", json.RawMessage("null")), want: assertion.ReasonClaims},
		{name: "claim names are case-sensitive (EXP is not exp)", claims: func(c map[string]any, now time.Time) {
			c["EXP"] = c["exp"]
			delete(c, "exp")
		}, want: assertion.ReasonClaims},
		{name: "missing aud", claims: setClaim("aud", nil), want: assertion.ReasonAudience},
		{name: "empty aud array", claims: setClaim("aud", []string{}), want: assertion.ReasonAudience},
		{name: "missing jti", claims: setClaim("jti", nil), want: assertion.ReasonClaims},
		{name: "jti too long", claims: setClaim("jti", strings.Repeat("j", 257)), want: assertion.ReasonClaims},

		// Who is authenticating.
		{name: "sub not a client id, no client_id", claims: setClaim("sub", "not a client"), want: assertion.ReasonClientID},
		{name: "client_id parameter malformed", in: func(in *assertion.Input) { in.ClientID = "a b" }, want: assertion.ReasonClientID},
		{name: "iss differs from sub", claims: setClaim("iss", "app-rs256"), want: assertion.ReasonClientID},
		{name: "sub differs from iss", claims: setClaim("sub", "app-rs256"), in: func(in *assertion.Input) { in.ClientID = "app-es256" }, want: assertion.ReasonClientID},
		{name: "client_id names another client", in: func(in *assertion.Input) { in.ClientID = "app-rs256" }, want: assertion.ReasonClientID},
		{name: "registered for client_secret_basic", client: "app-basic", want: assertion.ReasonMethod},

		// Audience (RFC 7523 §3 item 3).
		{name: "wrong aud", claims: setClaim("aud", "https://evil.example"), want: assertion.ReasonAudience},
		{name: "aud issuer with a trailing slash", claims: setClaim("aud", issuer+"/"), want: assertion.ReasonAudience},
		{name: "aud array without us", claims: setClaim("aud", []string{"https://a.example", "https://b.example"}), want: assertion.ReasonAudience},
		{name: "token endpoint aud, strict client", client: "app-strict", claims: setClaim("aud", tokenEndpoint), want: assertion.ReasonAudience},
		{name: "issuer and token endpoint, strict client", client: "app-strict", claims: setClaim("aud", []string{issuer, tokenEndpoint}), want: assertion.ReasonAudience},
		{name: "token endpoint aud, strict configuration", claims: setClaim("aud", tokenEndpoint),
			config: func(c *assertion.Config) { c.StrictAudience = true }, want: assertion.ReasonAudience},
		{name: "token endpoint aud, typ client-authentication+jwt", header: map[string]any{"typ": "client-authentication+jwt"},
			claims: setClaim("aud", tokenEndpoint), want: assertion.ReasonAudience},
		{name: "token endpoint aud, none configured", claims: setClaim("aud", tokenEndpoint),
			config: func(c *assertion.Config) { c.TokenEndpoint = "" }, want: assertion.ReasonAudience},

		// Times.
		{name: "expired", claims: times(-2*time.Minute, -time.Minute), want: assertion.ReasonExpired},
		{name: "expired just past the leeway", claims: times(-2*time.Minute, -30*time.Second), want: assertion.ReasonExpired},
		{name: "exp too far", claims: times(0, 6*time.Minute), want: assertion.ReasonLifetime},
		{name: "exp too far, no iat", claims: func(c map[string]any, now time.Time) {
			delete(c, "iat")
			c["exp"] = now.Add(10 * time.Minute).Unix()
		}, want: assertion.ReasonLifetime},
		{name: "issued long ago, exp soon", claims: times(-time.Hour, time.Minute), want: assertion.ReasonLifetime},
		{name: "exp in the year 3000", claims: setClaim("exp", time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC).Unix()), want: assertion.ReasonLifetime},
		{name: "nbf ahead", claims: func(c map[string]any, now time.Time) {
			c["nbf"] = now.Add(2 * time.Minute).Unix()
			c["exp"] = now.Add(3 * time.Minute).Unix()
		}, want: assertion.ReasonNotYetValid},
		{name: "iat ahead", claims: times(2*time.Minute, 3*time.Minute), want: assertion.ReasonNotYetValid},

		// Keys and signatures.
		{name: "unknown kid", header: map[string]any{"kid": "nope"}, want: assertion.ReasonKey},
		{name: "another client's key and kid", key: "ES256b", want: assertion.ReasonKey},
		{name: "right kid, wrong key", key: "attacker", want: assertion.ReasonSignature},
		{name: "tampered claims", raw: func(t testing.TB, e *env) string {
			s := signJWT(t, e.k["ES256"], "", nil, ownClaims("app-es256", e.clk.Now()), nil)
			parts := strings.Split(s, ".")
			c := ownClaims("app-es256", e.clk.Now())
			c["scope"] = "admin"
			cb, _ := json.Marshal(c)
			return parts[0] + "." + b64(cb) + "." + parts[2]
		}, want: assertion.ReasonSignature},
		{name: "no kid, two keys", client: "app-two", header: map[string]any{"kid": nil}, want: assertion.ReasonKey},
		{name: "key use enc", client: "app-enc", want: assertion.ReasonKey},
		{name: "key alg RS256, header PS256", client: "app-rs256", alg: "PS256", want: assertion.ReasonKey},
		{name: "RS256 header on an EC key", key: "RS256", header: map[string]any{"kid": "es256-1"}, want: assertion.ReasonKey},
		{name: "EdDSA header on an EC key", key: "EdDSA", header: map[string]any{"kid": "es256-1"}, want: assertion.ReasonKey},
		{name: "RSA 1024-bit key", client: "app-rsa1024", want: assertion.ReasonKey},
		{name: "both jwks and jwks_uri", client: "app-both", want: assertion.ReasonKey},
		{name: "no keys registered", client: "app-nokeys", want: assertion.ReasonKey},
		{name: "jwks_uri without a KeySource", client: "app-uri",
			config: func(c *assertion.Config) { c.Keys = nil }, want: assertion.ReasonKey},
		{name: "jwks_uri not a JWK Set", client: "app-uri",
			env: func(e *env) { e.keys.err = fmt.Errorf("fetch: %w", assertion.ErrKeysInvalid) }, want: assertion.ReasonKey},
		{name: "jwks_uri unknown kid", client: "app-uri", header: map[string]any{"kid": "rotated-away"}, want: assertion.ReasonKey},
		{name: "registered jwks garbage", client: "app-es256",
			env: func(e *env) { e.clients["app-es256"].JWKS = []byte("{") }, want: assertion.ReasonKey},

		// client_secret_jwt.
		{name: "client_secret_jwt without Secrets", client: "app-hs", key: "-", alg: "HS256", secret: secret64,
			config: func(c *assertion.Config) { c.Secrets = nil }, want: assertion.ReasonMethod},
		{name: "client_secret_jwt, only a hash stored", client: "app-hs-hashed", key: "-", alg: "HS256", secret: secret64, want: assertion.ReasonMethod},
		{name: "HS512 with a 43-character secret (RFC 7518 §3.2)", client: "app-hs-short", key: "-", alg: "HS512", secret: secret43, want: assertion.ReasonKey},
		{name: "HMAC with the wrong secret", client: "app-hs", key: "-", alg: "HS256", secret: secret43, want: assertion.ReasonSignature},

		// Dependencies down: 503, not invalid_client.
		{name: "jwks_uri unreachable", client: "app-uri",
			env: func(e *env) { e.keys.err = fmt.Errorf("dial: %w", assertion.ErrUnavailable) }, want: assertion.ReasonUnavailable, status: unavailable},
		{name: "jwks_uri fails without saying why", client: "app-uri",
			env: func(e *env) { e.keys.err = errors.New("boom") }, want: assertion.ReasonUnavailable, status: unavailable},
		{name: "replay store down",
			env: func(e *env) { e.replay.fail(fmt.Errorf("redis: %w", assertion.ErrUnavailable)) }, want: assertion.ReasonUnavailable, status: unavailable},
		{name: "secret store down", client: "app-hs", key: "-", alg: "HS256", secret: secret64,
			env: func(e *env) { e.secrets.err = fmt.Errorf("kms: %w", assertion.ErrUnavailable) }, want: assertion.ReasonUnavailable, status: unavailable},
	})
}

func TestResult(t *testing.T) {
	e := newEnv(t, nil)
	claims := ownClaims("app-eddsa", e.clk.Now())
	jwt := signJWT(t, e.k["EdDSA"], "Ed25519", nil, claims, nil)
	res, err := e.authenticate(context.Background(), bearer(jwt))
	if err != nil {
		t.Fatal(err)
	}
	want := assertion.Result{
		ClientID: "app-eddsa", Method: assertion.MethodPrivateKeyJWT,
		Issuer: "app-eddsa", Subject: "app-eddsa", KeyID: "ed-1", Algorithm: "Ed25519",
		JTI: claims["jti"].(string), ExpiresAt: time.Unix(claims["exp"].(int64), 0),
	}
	if *res != want {
		t.Fatalf("result\n %+v\nwant\n %+v", *res, want)
	}

	hs := signJWT(t, nil, "HS384", nil, ownClaims("app-hs", e.clk.Now()), secret64)
	res, err = e.authenticate(context.Background(), bearer(hs))
	if err != nil {
		t.Fatal(err)
	}
	if res.Method != assertion.MethodSecretJWT || res.Algorithm != "HS384" || res.Federated != nil {
		t.Fatalf("client_secret_jwt result %+v", res)
	}
}

func TestReplay(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	claims := ownClaims("app-es256", e.clk.Now())
	jwt := signJWT(t, e.k["ES256"], "", nil, claims, nil)
	if _, err := e.authenticate(ctx, bearer(jwt)); err != nil {
		t.Fatalf("first use: %v", err)
	}
	_, err := e.authenticate(ctx, bearer(jwt))
	checkOutcome(t, bearer(jwt), nil, err, assertion.ReasonReplay, 0)

	// The same jti signed anew is still a replay: the jti is what is single-use.
	again := signJWT(t, e.k["ES256"], "", nil, claims, nil)
	_, err = e.authenticate(ctx, bearer(again))
	checkOutcome(t, bearer(again), nil, err, assertion.ReasonReplay, 0)

	// jti values are per client: another client may use the same one.
	other := ownClaims("app-rs256", e.clk.Now())
	other["jti"] = claims["jti"]
	if _, err := e.authenticate(ctx, bearer(signJWT(t, e.k["RS256"], "", nil, other, nil))); err != nil {
		t.Fatalf("same jti, other client: %v", err)
	}

	// The jti is remembered until the assertion could no longer be accepted
	// anyway (exp + leeway), and the key never holds the raw jti.
	exp := time.Unix(claims["exp"].(int64), 0)
	e.replay.mu.Lock()
	for key, until := range e.replay.seen {
		if strings.Contains(key, claims["jti"].(string)) {
			t.Errorf("replay key %q holds the raw jti", key)
		}
		if !strings.HasPrefix(key, "client-assertion:app-") || len(key) > 200 {
			t.Errorf("replay key %q", key)
		}
		if !until.Equal(exp.Add(assertion.DefaultLeeway)) {
			t.Errorf("remembered until %v, want exp+leeway %v", until, exp.Add(assertion.DefaultLeeway))
		}
	}
	e.replay.mu.Unlock()

	// Once forgotten, the assertion has expired too.
	e.clk.Advance(time.Minute + assertion.DefaultLeeway)
	_, err = e.authenticate(ctx, bearer(jwt))
	checkOutcome(t, bearer(jwt), nil, err, assertion.ReasonExpired, 0)
}

// TestReplayNotConsumedByRefusals: an assertion refused for any reason other
// than its jti does not use the jti up, so a forgery cannot burn a real one.
func TestReplayNotConsumedByRefusals(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	claims := ownClaims("app-es256", e.clk.Now())
	forged := signJWT(t, e.k["attacker"], "", nil, claims, nil)
	if _, err := e.authenticate(ctx, bearer(forged)); !errors.Is(err, assertion.ErrInvalid) {
		t.Fatalf("forgery: %v", err)
	}
	if n := len(e.replay.seen); n != 0 {
		t.Fatalf("a refused assertion recorded %d jti", n)
	}
	if _, err := e.authenticate(ctx, bearer(signJWT(t, e.k["ES256"], "", nil, claims, nil))); err != nil {
		t.Fatalf("the real assertion after a forgery with its jti: %v", err)
	}
}

// TestConcurrentJTI: one assertion presented by 20 goroutines at once
// authenticates exactly once.
func TestConcurrentJTI(t *testing.T) {
	e := newEnv(t, nil)
	jwt := signJWT(t, e.k["ES256"], "", nil, ownClaims("app-es256", e.clk.Now()), nil)
	const n = 20
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		ok       int
		replayed int
		other    []error
	)
	startGate := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-startGate
			_, err := e.authenticate(context.Background(), bearer(jwt))
			mu.Lock()
			defer mu.Unlock()
			var ae *assertion.Error
			switch {
			case err == nil:
				ok++
			case errors.As(err, &ae) && ae.Reason == assertion.ReasonReplay:
				replayed++
			default:
				other = append(other, err)
			}
		})
	}
	close(startGate)
	wg.Wait()
	if ok != 1 || replayed != n-1 || len(other) != 0 {
		t.Fatalf("%d accepted, %d replays, other errors %v; want 1 and %d", ok, replayed, other, n-1)
	}
}

// TestFaultClassification shows what the endpoint's one classifier makes of
// each kind of error: a refusal is 401 invalid_client, a dependency that is
// down is 503, and a caller that went away is nobody's fault.
func TestFaultClassification(t *testing.T) {
	cases := []struct {
		name     string
		env      func(e *env)
		ctx      func() context.Context
		wantKind fault.Kind
		status   int
	}{
		{name: "refused", env: func(e *env) { e.clients["app-uri"].JWKSURI = "https://app.example/other" }, wantKind: fault.Protocol, status: 401},
		{name: "key source down", env: func(e *env) { e.keys.err = assertion.ErrUnavailable }, wantKind: fault.Protocol, status: 503},
		{name: "deadline", env: func(e *env) { e.keys.err = context.DeadlineExceeded }, wantKind: fault.Unavailable, status: 503},
		{name: "canceled", env: func(e *env) { e.keys.err = context.Canceled }, ctx: func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}, wantKind: fault.Canceled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			tc.env(e)
			ctx := context.Background()
			if tc.ctx != nil {
				ctx = tc.ctx()
			}
			jwt := signJWT(t, e.k["RS256"], "", nil, ownClaims("app-uri", e.clk.Now()), nil)
			_, err := e.authenticate(ctx, bearer(jwt))
			if err == nil {
				t.Fatal("accepted")
			}
			c := fault.Classify(ctx, err)
			if c.Kind != tc.wantKind {
				t.Fatalf("kind %v, want %v (%v)", c.Kind, tc.wantKind, err)
			}
			if tc.status != 0 && c.OAuth.Status != tc.status {
				t.Fatalf("status %d, want %d", c.OAuth.Status, tc.status)
			}
			if tc.status == 503 && c.OAuth.RetryAfter < 1 {
				t.Fatalf("503 without Retry-After")
			}
		})
	}
}

// TestUntrustedInputNeverFetches: a client's jwks_uri is read only after the
// claims have passed, so expired or misaddressed assertions cost no fetch.
func TestUntrustedInputNeverFetches(t *testing.T) {
	e := newEnv(t, nil)
	for _, mutate := range []func(map[string]any, time.Time){
		times(-2*time.Minute, -time.Minute),
		setClaim("aud", "https://evil.example"),
		times(0, time.Hour),
	} {
		c := ownClaims("app-uri", e.clk.Now())
		mutate(c, e.clk.Now())
		if _, err := e.authenticate(context.Background(), bearer(signJWT(t, e.k["RS256"], "", nil, c, nil))); err == nil {
			t.Fatal("accepted")
		}
	}
	if n := e.keys.calls.Load(); n != 0 {
		t.Fatalf("%d key fetches for assertions refused on their claims", n)
	}
}

func TestVerifyMisuse(t *testing.T) {
	e := newEnv(t, nil)
	a, err := e.v.Parse(bearer(signJWT(t, e.k["ES256"], "", nil, ownClaims("app-es256", e.clk.Now()), nil)))
	if err != nil {
		t.Fatal(err)
	}
	if a.ClientID() != "app-es256" {
		t.Fatalf("ClientID %q", a.ClientID())
	}
	for name, c := range map[string]*assertion.Client{"nil client": nil, "another client": e.clients["app-rs256"]} {
		if _, err := e.v.Verify(context.Background(), a, c); !errors.Is(err, assertion.ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := e.v.Verify(context.Background(), nil, e.clients["app-es256"]); !errors.Is(err, assertion.ErrInvalid) {
		t.Errorf("nil assertion: %v", err)
	}
}

func TestNew(t *testing.T) {
	replay := newMemReplay(time.Now)
	cases := []struct {
		name string
		cfg  assertion.Config
		ok   bool
	}{
		{"minimal", assertion.Config{Issuer: issuer, Replay: replay}, true},
		{"no issuer", assertion.Config{Replay: replay}, false},
		{"no replay store", assertion.Config{Issuer: issuer}, false},
		{"negative lifetime", assertion.Config{Issuer: issuer, Replay: replay, MaxLifetime: -time.Second}, false},
		{"federated over 24h", assertion.Config{Issuer: issuer, Replay: replay, FederatedMaxLifetime: 25 * time.Hour}, false},
		{"federated 24h", assertion.Config{Issuer: issuer, Replay: replay, FederatedMaxLifetime: 24 * time.Hour}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := assertion.New(tc.cfg)
			if (err == nil) != tc.ok {
				t.Fatalf("New: %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// TestNoLeeway: a negative Leeway means none.
func TestNoLeeway(t *testing.T) {
	e := newEnv(t, func(c *assertion.Config) { c.Leeway = -1 })
	c := ownClaims("app-es256", e.clk.Now())
	c["exp"] = e.clk.Now().Unix()
	_, err := e.authenticate(context.Background(), bearer(signJWT(t, e.k["ES256"], "", nil, c, nil)))
	checkOutcome(t, bearer(""), nil, err, assertion.ReasonExpired, 0)
}
