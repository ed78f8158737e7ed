package assertion_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/authd/authd/internal/clientauth/assertion"
)

// TestKubernetesServiceAccountToken: a pod's projected service-account token,
// as kube-apiserver signs it (RS256, a kid, no typ, nested kubernetes.io
// claims), authenticates the client that trusts its issuer and subject, and
// keeps doing so for its lifetime: its jti is not single-use.
func TestKubernetesServiceAccountToken(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	jwt := signJWT(t, e.k["k8s"], "", map[string]any{"typ": nil}, k8sClaims(e.clk.Now()), nil)
	in := assertion.Input{AssertionType: assertion.TypeJWTBearer, Assertion: jwt, ClientID: "workload"}
	for i := range 3 {
		res, err := e.authenticate(ctx, in)
		if err != nil {
			t.Fatalf("use %d: %v", i+1, err)
		}
		if res.ClientID != "workload" || res.Federated == nil || res.Federated.Issuer != k8sIssuer ||
			res.Subject != k8sSubject || res.Method != assertion.MethodPrivateKeyJWT || res.KeyID != "k8s-2026-03" {
			t.Fatalf("result %+v", res)
		}
		e.clk.Advance(10 * time.Minute)
	}
	if len(e.replay.seen) != 0 {
		t.Fatalf("a workload token's jti was recorded: %v", e.replay.seen)
	}
	for _, asked := range e.issuers.asked {
		if asked != k8sIssuer+" " {
			t.Fatalf("asked for keys of %q", asked)
		}
	}
	// Issued 10 minutes before the first use and used 30 minutes after it;
	// 25 more is past exp + leeway.
	e.clk.Advance(25 * time.Minute)
	_, err := e.authenticate(ctx, in)
	checkOutcome(t, in, nil, err, assertion.ReasonExpired, 0)
}

// fedCase is one federated token: claims built from base, changed by claims,
// signed by key, sent for client.
type fedCase struct {
	name   string
	client string // client_id parameter; default workload, "-" for none
	key    string // default k8s
	alg    string
	header map[string]any
	base   func(now time.Time) map[string]any // default k8sClaims
	claims func(c map[string]any, now time.Time)
	config func(*assertion.Config)
	env    func(e *env)
	want   assertion.Reason
	status int
}

func runFederated(t *testing.T, cases []fedCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.config)
			if tc.env != nil {
				tc.env(e)
			}
			base := tc.base
			if base == nil {
				base = k8sClaims
			}
			c := base(e.clk.Now())
			if tc.claims != nil {
				tc.claims(c, e.clk.Now())
			}
			key := tc.key
			if key == "" {
				key = "k8s"
			}
			in := bearer(signJWT(t, e.k[key], tc.alg, tc.header, c, []byte("a secret of thirty-two bytes or more")))
			switch tc.client {
			case "":
				in.ClientID = "workload"
			case "-":
			default:
				in.ClientID = tc.client
			}
			res, err := e.authenticate(context.Background(), in)
			checkOutcome(t, in, res, err, tc.want, tc.status)
			if tc.want == "" && res.Federated == nil {
				t.Fatalf("accepted, but not as a federated credential: %+v", res)
			}
			if tc.want == assertion.ReasonIssuer || tc.want == assertion.ReasonSubject {
				if len(e.issuers.asked) != 0 {
					t.Fatalf("fetched keys %v for an issuer or subject no credential trusts", e.issuers.asked)
				}
			}
		})
	}
}

func ciClaims(now time.Time) map[string]any {
	return map[string]any{
		"iss": ciIssuer, "sub": ciSubject, "aud": ciAudience,
		"repository": "acme/api", "ref": "refs/heads/main", "run_id": "123",
		"iat": now.Unix(), "nbf": now.Add(-5 * time.Second).Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"jti": "ci-1",
	}
}

func lifetime(d time.Duration) func(map[string]any, time.Time) {
	return func(c map[string]any, now time.Time) {
		c["iat"] = now.Add(-time.Minute).Unix()
		c["nbf"] = now.Add(-time.Minute).Unix()
		c["exp"] = now.Add(-time.Minute + d).Unix()
	}
}

func TestFederatedAccept(t *testing.T) {
	runFederated(t, []fedCase{
		{name: "kubernetes"},
		{name: "kubernetes, aud a string", claims: setClaim("aud", issuer)},
		{name: "kubernetes, several audiences", claims: setClaim("aud", []string{"https://vault.example", issuer})},
		{name: "CI token with its credential's audience", key: "ci", base: ciClaims, header: map[string]any{"typ": "JWT"}},
		{name: "explicit jwks_uri", key: "EdDSA", base: func(now time.Time) map[string]any {
			return map[string]any{"iss": "https://oidc.example", "sub": "svc", "aud": issuer, "exp": now.Add(time.Minute).Unix()}
		}},
		{name: "explicit jwks_uri, Ed25519 name", key: "EdDSA", alg: "Ed25519", base: func(now time.Time) map[string]any {
			return map[string]any{"iss": "https://oidc.example", "sub": "svc", "aud": issuer, "exp": now.Add(time.Minute).Unix()}
		}},
		{name: "no jti", claims: setClaim("jti", nil)},
		{name: "lifetime 1h", claims: lifetime(time.Hour)},
		{name: "lifetime 23h under a 24h credential", client: "workload-24h", claims: lifetime(23 * time.Hour)},
		{name: "lifetime 3h by configuration", claims: lifetime(3 * time.Hour),
			config: func(c *assertion.Config) { c.FederatedMaxLifetime = 3 * time.Hour }},
	})
}

func TestFederatedReject(t *testing.T) {
	runFederated(t, []fedCase{
		{name: "no client_id parameter", client: "-", want: assertion.ReasonClientID},
		{name: "issuer not trusted", claims: setClaim("iss", "https://evil.example"), want: assertion.ReasonIssuer},
		{name: "issuer differs by a trailing slash", claims: setClaim("iss", k8sIssuer+"/"), want: assertion.ReasonIssuer},
		{name: "issuer trusted by no credential of this client", client: "app-es256", want: assertion.ReasonIssuer},
		{name: "subject mismatch", claims: setClaim("sub", "system:serviceaccount:payments:other"), want: assertion.ReasonSubject},
		{name: "subject prefix", claims: setClaim("sub", k8sSubject+"-admin"), want: assertion.ReasonSubject},
		{name: "subject case", claims: setClaim("sub", "system:serviceaccount:Payments:api"), want: assertion.ReasonSubject},
		{name: "audience mismatch", claims: setClaim("aud", []string{"https://vault.example"}), want: assertion.ReasonAudience},
		{name: "audience the token endpoint", claims: setClaim("aud", tokenEndpoint), want: assertion.ReasonAudience},
		{name: "CI token addressed to the issuer, credential wants its own audience", key: "ci", base: ciClaims,
			claims: setClaim("aud", issuer), want: assertion.ReasonAudience},
		{name: "missing exp", claims: setClaim("exp", nil), want: assertion.ReasonClaims},
		{name: "expired", claims: lifetime(30 * time.Second), want: assertion.ReasonExpired},
		{name: "lifetime 2h", claims: lifetime(2 * time.Hour), want: assertion.ReasonLifetime},
		{name: "lifetime 25h under a 24h credential", client: "workload-24h", claims: lifetime(25 * time.Hour), want: assertion.ReasonLifetime},
		{name: "credential's 48h capped at 24h", client: "workload-48h", claims: lifetime(30 * time.Hour), want: assertion.ReasonLifetime},
		{name: "a year-long legacy token", claims: lifetime(365 * 24 * time.Hour), want: assertion.ReasonLifetime},
		{name: "nbf ahead", claims: setClaim("nbf", start.Add(5*time.Minute).Unix()), want: assertion.ReasonNotYetValid},
		{name: "HS256", alg: "HS256", want: assertion.ReasonAlg},
		{name: "alg none", alg: "none", want: assertion.ReasonAlg},
		{name: "typ at+jwt", header: map[string]any{"typ": "at+jwt"}, want: assertion.ReasonHeader},
		{name: "unknown kid", header: map[string]any{"kid": "k8s-2025-01"}, want: assertion.ReasonKey},
		{name: "signed by another key with the issuer's kid", key: "attacker", header: map[string]any{"kid": "k8s-2026-03"}, alg: "ES256", want: assertion.ReasonKey},
		{name: "signed by another RSA key with the issuer's kid", key: "RS256", header: map[string]any{"kid": "k8s-2026-03"}, want: assertion.ReasonSignature},
		{name: "federated credentials not enabled", config: func(c *assertion.Config) { c.IssuerKeys = nil }, want: assertion.ReasonIssuer},
		{name: "issuer keys unreachable", env: func(e *env) { e.issuers.err = fmt.Errorf("discovery: %w", assertion.ErrUnavailable) },
			want: assertion.ReasonUnavailable, status: http.StatusServiceUnavailable},
		{name: "issuer discovery document invalid", env: func(e *env) { e.issuers.err = fmt.Errorf("discovery: %w", assertion.ErrKeysInvalid) },
			want: assertion.ReasonKey},
		{name: "client registered for client_secret_jwt", client: "app-hs", want: assertion.ReasonClientID},
	})
}

func TestFederatedCredentialValidate(t *testing.T) {
	cases := []struct {
		name string
		fc   assertion.FederatedCredential
		ok   bool
	}{
		{"kubernetes", assertion.FederatedCredential{Issuer: k8sIssuer, Subject: k8sSubject}, true},
		{"SPIFFE", assertion.FederatedCredential{Issuer: "https://oidc-discovery.example.org", Subject: "spiffe://example.org/ns/payments/sa/api", Audience: issuer}, true},
		{"explicit jwks_uri and lifetime", assertion.FederatedCredential{Issuer: k8sIssuer, Subject: "s", JWKSURI: "https://keys.example/jwks", MaxLifetime: 24 * time.Hour}, true},
		{"http issuer", assertion.FederatedCredential{Issuer: "http://kubernetes.default.svc", Subject: "s"}, false},
		{"issuer with query", assertion.FederatedCredential{Issuer: k8sIssuer + "?x=1", Subject: "s"}, false},
		{"issuer with fragment", assertion.FederatedCredential{Issuer: k8sIssuer + "#x", Subject: "s"}, false},
		{"issuer a client id", assertion.FederatedCredential{Issuer: "app-es256", Subject: "s"}, false},
		{"no subject", assertion.FederatedCredential{Issuer: k8sIssuer}, false},
		{"http jwks_uri", assertion.FederatedCredential{Issuer: k8sIssuer, Subject: "s", JWKSURI: "http://keys.example"}, false},
		{"lifetime over 24h", assertion.FederatedCredential{Issuer: k8sIssuer, Subject: "s", MaxLifetime: 25 * time.Hour}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.fc.Validate(); (err == nil) != tc.ok {
				t.Fatalf("Validate: %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// TestFederatedIsNotSelf: a workload token whose sub happens to be a client id
// does not authenticate that client without the client_id parameter, and never
// as the client's own assertion.
func TestFederatedIsNotSelf(t *testing.T) {
	e := newEnv(t, nil)
	c := k8sClaims(e.clk.Now())
	c["sub"] = "workload"
	in := bearer(signJWT(t, e.k["k8s"], "", nil, c, nil))
	_, err := e.authenticate(context.Background(), in)
	var ae *assertion.Error
	if !errors.As(err, &ae) || ae.Reason != assertion.ReasonClientID {
		t.Fatalf("err %v, want reason client_id", err)
	}
}
