package assertion_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/clientauth/assertion"
	"github.com/authd/authd/internal/oauth"
)

// alwaysFirst is a Replay that never refuses, so a fuzzed seed keeps verifying
// and the fuzzer explores past the replay check.
type alwaysFirst struct{}

func (alwaysFirst) Use(context.Context, string, time.Time) (bool, error) { return true, nil }

// FuzzParse feeds arbitrary assertions and client_id values through Parse and
// Verify. Nothing may panic; every refusal is an *assertion.Error carrying
// invalid_client; and only a seed's claims can ever verify, since the fuzzer
// cannot sign.
func FuzzParse(f *testing.F) {
	e := newEnv(f, func(c *assertion.Config) { c.Replay = alwaysFirst{} })
	now := e.clk.Now()
	seedJTI := map[string]bool{}
	add := func(jwt, clientID string, claims map[string]any) {
		if jti, ok := claims["jti"].(string); ok {
			seedJTI[jti] = true
		}
		f.Add(jwt, clientID)
	}
	for _, name := range []string{"ES256", "ES384", "RS256", "PS256", "EdDSA", "Ed25519"} {
		client := map[string]string{"ES256": "app-es256", "ES384": "app-es384", "RS256": "app-rs256",
			"PS256": "app-ps256", "EdDSA": "app-eddsa", "Ed25519": "app-ed25519"}[name]
		c := ownClaims(client, now)
		add(signJWT(f, e.k[name], "", nil, c, nil), "", c)
	}
	hs := ownClaims("app-hs", now)
	add(signJWT(f, nil, "HS256", nil, hs, secret64), "app-hs", hs)
	k8s := k8sClaims(now)
	add(signJWT(f, e.k["k8s"], "", nil, k8s, nil), "workload", k8s)
	f.Add("", "")
	f.Add("a.b.c", "app-es256")
	f.Add("eyJhbGciOiJub25lIn0.eyJpc3MiOiJhcHAtZXMyNTYifQ.", "")
	f.Add(strings.Repeat("A", 100)+"."+strings.Repeat("B", 100)+"."+strings.Repeat("C", 100), "workload")

	f.Fuzz(func(t *testing.T, jwt, clientID string) {
		in := assertion.Input{AssertionType: assertion.TypeJWTBearer, Assertion: jwt, ClientID: clientID}
		a, err := e.v.Parse(in)
		if err != nil {
			checkRefusal(t, err)
			return
		}
		if !oauth.ValidClientID(a.ClientID()) {
			t.Fatalf("Parse accepted client id %q", a.ClientID())
		}
		c, ok := e.clients[a.ClientID()]
		if !ok {
			return
		}
		res, err := e.v.Verify(context.Background(), a, c)
		if err != nil {
			checkRefusal(t, err)
			return
		}
		if res.ClientID != c.ID {
			t.Fatalf("verified as %q for client %q", res.ClientID, c.ID)
		}
		if res.Federated == nil && !seedJTI[res.JTI] || res.Federated != nil && res.Subject != k8sSubject {
			t.Fatalf("a fuzzed assertion verified: %+v", res)
		}
	})
}

func checkRefusal(t *testing.T, err error) {
	t.Helper()
	var ae *assertion.Error
	if !errors.As(err, &ae) || !errors.Is(err, assertion.ErrInvalid) {
		t.Fatalf("refusal %T %v", err, err)
	}
	if oe, ok := oauth.As(err); !ok || oe.Code != oauth.CodeInvalidClient {
		t.Fatalf("refusal %v carries no invalid_client", err)
	}
}
