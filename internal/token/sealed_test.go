package token

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/authd/authd/internal/oauth"
)

func sealedSamples() []*sealedClaims {
	return []*sealedClaims{
		{Sub: "svc", ClientID: "svc", Jti: "j", Exp: 1_800_000_060, Iat: 1_800_000_000},
		{Sub: "alice", ClientID: "app", Scope: "openid read", Jti: "0123456789abcdefghijkl", Gid: "g-1",
			Aud: []string{"https://api.example", "https://other.example"}, Exp: 1 << 40, Iat: 1, Ugen: 7,
			Cnf: &oauth.Confirmation{JKT: "thumb"}, Act: &Actor{Sub: "svc-a", Act: &Actor{Sub: "svc-b", Iss: "https://idp.example"}}},
		{Sub: "bob", ClientID: "mtls", Jti: "x", Cnf: &oauth.Confirmation{X5TS256: "cert"}, Aud: []string{"a"}, Exp: 2, Iat: 1},
	}
}

// The binary layout gives back exactly what it was given, and any
// truncation of it is refused rather than read short.
func TestSealedClaimsRoundTrip(t *testing.T) {
	for _, c := range sealedSamples() {
		b := c.appendBinary(nil)
		got, ok := decodeSealedClaims(b)
		if !ok || !reflect.DeepEqual(&got, c) {
			t.Fatalf("decode(encode(%+v)) = %+v, %v", c, got, ok)
		}
		for n := range len(b) {
			if _, ok := decodeSealedClaims(b[:n]); ok {
				t.Errorf("%d of %d bytes decoded", n, len(b))
			}
		}
		if _, ok := decodeSealedClaims(append(bytes.Clone(b), 0)); ok {
			t.Error("a trailing byte was accepted")
		}
	}
}

// FuzzSealedClaims reaches the plaintext decoder directly (through the
// token, the AEAD refuses everything the fuzzer makes): it must not panic
// or allocate by a length it was told, and what it accepts re-encodes to
// the same claims.
func FuzzSealedClaims(f *testing.F) {
	for _, c := range sealedSamples() {
		f.Add(c.appendBinary(nil))
	}
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, ok := decodeSealedClaims(b)
		if !ok {
			return
		}
		again, ok := decodeSealedClaims(c.appendBinary(nil))
		if !ok || !reflect.DeepEqual(again, c) {
			t.Fatalf("%x: decoded %+v, re-encoded and decoded %+v, %v", b, c, again, ok)
		}
	})
}
