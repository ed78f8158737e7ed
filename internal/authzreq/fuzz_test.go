package authzreq_test

import (
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/internal/oauth"
)

// FuzzVerify feeds arbitrary request objects to Verify: it must never
// panic, and anything it accepts must have been signed by the client's key.
func FuzzVerify(f *testing.F) {
	fx := newFixture(f)
	f.Add(sign(f, fx.key, jose.ES256, "k1", "oauth-authz-req+jwt", claims()))
	f.Add(sign(f, fx.other, jose.ES256, "k1", "", claims()))
	f.Add(unsigned(claims()))
	f.Add("eyJhbGciOiJFUzI1NiJ9.e30.")
	f.Add("a.b.c")
	v := verifier(f, nil)
	f.Fuzz(func(t *testing.T, raw string) {
		params, err := v.Verify(t.Context(), fx.client, raw)
		if err != nil {
			if _, ok := oauth.As(err); !ok {
				t.Fatalf("Verify returned a non-protocol error: %v", err)
			}
			return
		}
		if params.Get("client_id") != fx.client.ID {
			t.Fatalf("accepted an object for another client: %v", params)
		}
	})
}
