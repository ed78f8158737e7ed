package dpop_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"errors"
	"strings"
	"testing"

	"github.com/authd/authd/internal/dpop"
)

// fuzzKeys are fixed keys, so that proofs in a stored corpus were signed by
// a key this process knows: the property below names the proofs that may be
// accepted by their signed content.
func fuzzSigners(f *testing.F) []*signer {
	f.Helper()
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i)
	}
	ed := ed25519.NewKeyFromSeed(seed)
	d := make([]byte, 32)
	d[31] = 7
	ec, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d)
	if err != nil {
		f.Fatal(err)
	}
	return []*signer{edSigner("EdDSA", ed), edSigner("Ed25519", ed), ecSigner("ES256", ec)}
}

// FuzzVerify: Verify never panics, refuses with an *Error only, and never
// accepts a proof that is not one of the seeds' signed content: no mutation
// of a valid proof (or of anything else) yields an accepted forgery. For
// Ed25519, whose signatures are deterministic and not malleable, the
// accepted proof must be the seed itself, byte for byte.
func FuzzVerify(f *testing.F) {
	signers := fuzzSigners(f)
	nonces, err := dpop.NewNonces(make([]byte, 32), nonceWindow)
	if err != nil {
		f.Fatal(err)
	}
	// signed maps each seed's header.payload to the seed (ES256 seeds are
	// not reproducible, their content is).
	signed := map[string]string{}
	add := func(p string) {
		f.Add(p)
		signed[p[:strings.LastIndexByte(p, '.')]] = p
	}
	for _, s := range signers {
		add(s.proof(nil))
		add(s.proof(func(_, c map[string]any) { c["ath"] = dpop.AccessTokenHash("token"); c["nonce"] = nonces.Current(t0) }))
	}
	add(rfcTokenProof)
	add(rfcResourceProof)
	f.Add("")
	f.Add("..")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add(strings.Repeat("A", 100) + "." + strings.Repeat("B", 100) + "." + strings.Repeat("C", 86))

	type check struct {
		req  dpop.Request
		opts dpop.Options
	}
	nonceReq := testRequest()
	nonceReq.AccessToken = "token"
	checks := []check{
		{testRequest(), dpop.Options{}},
		{nonceReq, dpop.Options{Nonces: nonces}},
		{rfcTokenRequest, dpop.Options{}},
		{rfcResourceRequest, dpop.Options{}},
	}
	f.Fuzz(func(t *testing.T, proof string) {
		for _, c := range checks {
			p, err := dpop.Verify(proof, c.req, c.opts)
			if err != nil {
				var e *dpop.Error
				if !errors.As(err, &e) || p != nil {
					t.Fatalf("Verify = %v, %v (%T); want a nil proof and a *dpop.Error", p, err, err)
				}
				continue
			}
			i := strings.LastIndexByte(proof, '.')
			seed, ok := signed[proof[:i]]
			if !ok {
				t.Fatalf("accepted a proof no known key signed: %q", proof)
			}
			if p.Algorithm == "EdDSA" || p.Algorithm == "Ed25519" {
				if proof != seed {
					t.Fatalf("accepted a mutated Ed25519 proof:\n%q\nseed:\n%q", proof, seed)
				}
			}
		}
	})
}
