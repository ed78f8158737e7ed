package dpop_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/internal/dpop"
	"github.com/authd/authd/internal/replay"
	"github.com/authd/authd/internal/replay/memory"
	"github.com/authd/authd/internal/testenv/clocktest"
)

// Both replay backends are what CheckReplay takes.
var _ dpop.ReplayCache = replay.Cache(nil)

func newReplayCache(t *testing.T, clk *clocktest.Clock, maxKeys int) *memory.Cache {
	c := memory.New(memory.Options{Now: clk.Now, MaxKeys: maxKeys})
	t.Cleanup(c.Close)
	return c
}

// verified returns the proof s makes for the test request, verified at now.
func verified(t *testing.T, s *signer, now time.Time, edit func(h, c map[string]any)) *dpop.Proof {
	t.Helper()
	req := testRequest()
	req.Now = now
	p, err := dpop.Verify(s.proof(edit), req, dpop.Options{})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return p
}

func TestCheckReplay(t *testing.T) {
	clk := clocktest.New(t0)
	c := newReplayCache(t, clk, 0)
	ctx := context.Background()
	s := newSigner(t, "ES256")
	p := verified(t, s, t0, nil)

	if err := dpop.CheckReplay(ctx, c, p); err != nil {
		t.Fatalf("first use: %v", err)
	}
	for range 3 {
		if err := dpop.CheckReplay(ctx, c, p); !errors.Is(err, dpop.ErrReplay) || !errors.Is(err, dpop.ErrInvalidProof) {
			t.Fatalf("replay: err = %v; want ErrReplay (invalid_dpop_proof)", err)
		}
	}
	// A proof of the same key with another jti is another proof.
	if err := dpop.CheckReplay(ctx, c, verified(t, s, t0, func(_, c map[string]any) { c["jti"] = "other" })); err != nil {
		t.Fatalf("another jti: %v", err)
	}
	// Another client using the same jti does not burn this one's, nor is
	// burnt by it.
	if err := dpop.CheckReplay(ctx, c, verified(t, newSigner(t, "EdDSA"), t0, nil)); err != nil {
		t.Fatalf("same jti, another key: %v", err)
	}
}

// TestReplayWindow: the record outlives every instant at which Verify would
// accept the proof, including on a replica whose clock is up to
// ReplayMargin behind; after that, Verify itself refuses the proof.
func TestReplayWindow(t *testing.T) {
	clk := clocktest.New(t0)
	c := newReplayCache(t, clk, 0)
	ctx := context.Background()
	s := newSigner(t, "ES256")
	// A proof made 20 s in the future (a client clock ahead) is accepted
	// until iat + Leeway.
	iat := t0.Add(20 * time.Second)
	p := verified(t, s, t0, func(_, c map[string]any) { c["iat"] = iat.Unix() })
	if want := iat.Add(dpop.DefaultLeeway); !p.Expires.Equal(want) {
		t.Fatalf("Expires = %v; want iat + Leeway = %v", p.Expires, want)
	}
	if err := dpop.CheckReplay(ctx, c, p); err != nil {
		t.Fatal(err)
	}
	// The last instant Verify accepts it, plus the margin, less a nanosecond.
	clk.Advance(p.Expires.Add(dpop.ReplayMargin).Sub(t0) - time.Nanosecond)
	if err := dpop.CheckReplay(ctx, c, p); !errors.Is(err, dpop.ErrReplay) {
		t.Fatalf("just before the record ends: err = %v; want ErrReplay", err)
	}
	clk.Advance(time.Nanosecond)
	req := testRequest()
	req.Now = clk.Now()
	if _, err := dpop.Verify(s.proof(func(_, c map[string]any) { c["iat"] = iat.Unix() }), req, dpop.Options{}); !errors.Is(err, dpop.ErrIssuedAt) {
		t.Fatalf("once the record is gone, Verify = %v; want ErrIssuedAt", err)
	}
}

// TestReplayRace: a proof sent 50 times at once is accepted once.
func TestReplayRace(t *testing.T) {
	clk := clocktest.New(t0)
	c := newReplayCache(t, clk, 0)
	p := verified(t, newSigner(t, "EdDSA"), t0, nil)
	var accepted atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 50 {
		wg.Go(func() {
			<-start
			switch err := dpop.CheckReplay(context.Background(), c, p); {
			case err == nil:
				accepted.Add(1)
			case !errors.Is(err, dpop.ErrReplay):
				t.Errorf("CheckReplay: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if n := accepted.Load(); n != 1 {
		t.Fatalf("a proof raced 50 times was accepted %d times; want 1", n)
	}
}

// TestReplayCacheFailure: when the cache cannot decide, CheckReplay fails
// with the cache's error, not as a bad proof: the caller refuses the request
// as unavailable.
func TestReplayCacheFailure(t *testing.T) {
	clk := clocktest.New(t0)
	ctx := context.Background()
	s := newSigner(t, "ES256")
	full := newReplayCache(t, clk, 1)
	if err := dpop.CheckReplay(ctx, full, verified(t, s, t0, func(_, c map[string]any) { c["jti"] = "fills" })); err != nil {
		t.Fatal(err)
	}
	down := failingCache{errors.New("redis down: " + replay.ErrUnavailable.Error())}
	for name, c := range map[string]dpop.ReplayCache{"full": full, "down": down} {
		err := dpop.CheckReplay(ctx, c, verified(t, s, t0, nil))
		var e *dpop.Error
		if err == nil || errors.As(err, &e) || errors.Is(err, dpop.ErrInvalidProof) {
			t.Fatalf("%s: err = %v; want the cache's error, not a refusal", name, err)
		}
	}
	if err := dpop.CheckReplay(ctx, full, verified(t, s, t0, nil)); !errors.Is(err, replay.ErrUnavailable) {
		t.Fatalf("full memory cache: err = %v; want it to wrap replay.ErrUnavailable", err)
	}
}

type failingCache struct{ err error }

func (f failingCache) Use(context.Context, string, time.Time) (bool, error) { return false, f.err }

func TestReplayKey(t *testing.T) {
	p := &dpop.Proof{JKT: rfcJKT, JTI: "-BwC3ESc6acc2lTc"}
	k := p.ReplayKey()
	if len(k) != 48 || k[:5] != "dpop:" {
		t.Fatalf("ReplayKey = %q; want dpop: and 43 characters", k)
	}
	// The key and jti are not simply joined: no pair of them makes another
	// pair's key.
	q := &dpop.Proof{JKT: rfcJKT + "-", JTI: "BwC3ESc6acc2lTc"}
	if q.ReplayKey() == k {
		t.Fatal("two proofs share a replay key")
	}
}
