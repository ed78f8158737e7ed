package token

import (
	"encoding/json"
	"testing"
)

// FuzzPeekIssuer: whatever a caller sends as a subject token, actor token
// or assertion, reading its issuer before verification neither panics nor
// yields an issuer without a signed JWT around it.
func FuzzPeekIssuer(f *testing.F) {
	f.Add("eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlIn0.c2ln")
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		jws, iss, err := peekIssuer(tok)
		if err == nil && (jws == nil || iss == "" || len(jws.Signatures) != 1) {
			t.Fatalf("peekIssuer(%q) = %v, %q without error", tok, jws, iss)
		}
	})
}

// FuzzExternalClaims: a trusted issuer's claims, act and may_act included,
// decode without panicking, and an accepted act chain is bounded.
func FuzzExternalClaims(f *testing.F) {
	f.Add([]byte(`{"iss":"https://i","sub":"s","aud":["a"],"exp":1,"act":{"sub":"x","act":{"sub":"y"}},"may_act":{"sub":"z"}}`))
	f.Add([]byte(`{"aud":"a","scope":"read"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var c externalClaims
		if json.Unmarshal(b, &c) != nil {
			return
		}
		if c.Act != nil && c.Act.validChain() && c.Act.depth() > MaxActorDepth {
			t.Fatalf("chain of %d accepted", c.Act.depth())
		}
		if a, err := decodeActor(c.Act.encode()); err != nil || a.depth() != c.Act.depth() {
			t.Fatalf("act does not round-trip: %v", err)
		}
	})
}

func TestActorChain(t *testing.T) {
	tests := []struct {
		name  string
		act   *Actor
		depth int
		valid bool
	}{
		{"none", nil, 0, true},
		{"one", &Actor{Sub: "a"}, 1, true},
		{"nested", &Actor{Sub: "b", Act: &Actor{Sub: "a"}}, 2, true},
		{"no sub inside", &Actor{Sub: "b", Act: &Actor{Iss: "i"}}, 2, false},
		{"too deep", &Actor{Sub: "6", Act: &Actor{Sub: "5", Act: &Actor{Sub: "4", Act: &Actor{Sub: "3", Act: &Actor{Sub: "2", Act: &Actor{Sub: "1"}}}}}}, 6, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.act.depth(); got != tc.depth {
				t.Fatalf("depth = %d, want %d", got, tc.depth)
			}
			if got := tc.act.validChain(); got != tc.valid {
				t.Fatalf("validChain = %v, want %v", got, tc.valid)
			}
		})
	}
}
