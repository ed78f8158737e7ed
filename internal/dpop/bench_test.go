package dpop_test

import (
	"context"
	"testing"
	"time"

	"github.com/authd/authd/internal/dpop"
	"github.com/authd/authd/internal/replay/memory"
)

// BenchmarkVerify is one proof's verification per algorithm, signature
// included (which dominates: see REFERENCES.md's crypto ceilings).
func BenchmarkVerify(b *testing.B) {
	for _, alg := range []string{"ES256", "EdDSA", "Ed25519", "ES384", "RS256", "PS256"} {
		b.Run(alg, func(b *testing.B) {
			s := newSigner(b, alg)
			proof := s.proof(nil)
			req := testRequest()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := dpop.Verify(proof, req, dpop.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// A refusal before any signature work: what a flood of junk costs.
	b.Run("refused/typ", func(b *testing.B) {
		proof := newSigner(b, "ES256").proof(func(h, _ map[string]any) { h["typ"] = "JWT" })
		req := testRequest()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := dpop.Verify(proof, req, dpop.Options{}); err == nil {
				b.Fatal("accepted")
			}
		}
	})
}

// BenchmarkVerifyAndCheckReplay is the whole of what a token request with a
// proof costs here: Verify, then recording the proof in the memory cache.
func BenchmarkVerifyAndCheckReplay(b *testing.B) {
	s := newSigner(b, "EdDSA")
	c := memory.New(memory.Options{})
	b.Cleanup(c.Close)
	ctx := context.Background()
	req := testRequest()
	// A real clock for the cache; proofs are judged at t0 but recorded
	// against now, so records last a Leeway past their (past) iat would
	// not do: give each a fresh jti and a recent iat.
	req.Now = time.Now()
	proofs := make([]string, 4096)
	for i := range proofs {
		proofs[i] = s.proof(func(_, c map[string]any) { c["jti"] = "j" + itoa(i); c["iat"] = req.Now.Unix() })
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p, err := dpop.Verify(proofs[i%len(proofs)], req, dpop.Options{})
		if err != nil {
			b.Fatal(err)
		}
		// Every 4096th call is a replay; the others are first uses.
		_ = dpop.CheckReplay(ctx, c, p)
		i++
	}
}

func BenchmarkNonces(b *testing.B) {
	n := newNonces(b)
	now := t0
	cur := n.Current(now)
	b.Run("Valid", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !n.Valid(cur, now) {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("Current", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = n.Current(now)
		}
	})
	// Every call in a new window: the three HMAC derivations a window
	// costs, once per window in practice.
	b.Run("NewWindow", func(b *testing.B) {
		b.ReportAllocs()
		at := now
		for b.Loop() {
			at = at.Add(nonceWindow)
			_ = n.Current(at)
		}
	})
}

func itoa(i int) string {
	var b [20]byte
	n := len(b)
	for {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			return string(b[n:])
		}
	}
}
