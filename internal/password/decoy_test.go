package password

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
)

func TestParamsOf(t *testing.T) {
	for _, v := range referenceVectors {
		p, err := ParamsOf(v.encoded)
		if err != nil || p != v.params {
			t.Errorf("ParamsOf(%q) = %+v, %v; want %+v", v.encoded, p, err, v.params)
		}
	}
	for _, bad := range []string{"", "plaintext", "$argon2id$v=19$m=4294967295,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA"} {
		if _, err := ParamsOf(bad); !errors.Is(err, ErrInvalidHash) {
			t.Errorf("ParamsOf(%q) err = %v, want ErrInvalidHash", bad, err)
		}
	}
}

// paramsRecorder is an idKey that records the parameters of every derivation
// instead of paying for it.
type paramsRecorder struct {
	mu    sync.Mutex
	calls []Params
}

func (r *paramsRecorder) idKey(pw, salt []byte, t, m uint32, p uint8, l uint32) []byte {
	r.mu.Lock()
	r.calls = append(r.calls, Params{Memory: m, Time: t, Threads: p, SaltLen: uint32(len(salt)), KeyLen: l})
	r.mu.Unlock()
	return make([]byte, l)
}

func (r *paramsRecorder) take() []Params {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.calls
	r.calls = nil
	return c
}

// TestVerifyDecoyUsesCensus: after an Argon2 parameter change, unknown names
// are verified at the parameters the stored hashes have, in their
// proportions, and each name always at the same ones.
func TestVerifyDecoyUsesCensus(t *testing.T) {
	current := Params{Memory: 256, Time: 3, Threads: 1, SaltLen: 16, KeyLen: 32}
	old := Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	older := Params{Memory: 32, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 16}
	h := New(current, Limits{})
	rec := &paramsRecorder{}
	h.idKey = rec.idKey
	ctx := context.Background()

	// No census yet: the decoy is at the current params, as before.
	if err := h.VerifyDecoy(ctx, "pw", "nobody"); err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); len(got) != 1 || got[0] != current {
		t.Fatalf("without a census: derivations %+v, want one at %+v", got, current)
	}

	census := Census{Counts: map[Params]int{old: 600, current: 300, older: 100}, Key: []byte("census key")}
	h.SetCensus(census)
	const names = 5000
	seen := map[Params]int{}
	for i := range names {
		name := fmt.Sprintf("user%d", i)
		if err := h.VerifyDecoy(ctx, "pw", name); err != nil {
			t.Fatal(err)
		}
		got := rec.take()
		if len(got) != 1 {
			t.Fatalf("%s: %d derivations, want 1", name, len(got))
		}
		if got[0] != h.DecoyParams(name) {
			t.Fatalf("%s: derived at %+v, DecoyParams says %+v", name, got[0], h.DecoyParams(name))
		}
		if _, ok := census.Counts[got[0]]; !ok {
			t.Fatalf("%s: derived at %+v, which no stored hash has", name, got[0])
		}
		seen[got[0]]++
		// The same name again costs the same.
		for range 2 {
			_ = h.VerifyDecoy(ctx, "other pw", name)
			if again := rec.take(); again[0] != got[0] {
				t.Fatalf("%s: derived at %+v, then at %+v", name, got[0], again[0])
			}
		}
	}
	for p, n := range census.Counts {
		want := names * n / 1000
		if d := seen[p] - want; d < -want/10 || d > want/10 {
			t.Errorf("%+v: %d of %d names, want about %d (its share of the stored hashes)", p, seen[p], names, want)
		}
	}

	// Another Hasher (another replica, or after a restart) with the same
	// census and key assigns every name the same group; another key does not.
	other := New(current, Limits{})
	other.SetCensus(census)
	rekeyed := New(current, Limits{})
	rekeyed.SetCensus(Census{Counts: census.Counts, Key: []byte("another key")})
	differ := 0
	for i := range 500 {
		name := fmt.Sprintf("user%d", i)
		if other.DecoyParams(name) != h.DecoyParams(name) {
			t.Fatalf("%s: replicas disagree: %+v and %+v", name, other.DecoyParams(name), h.DecoyParams(name))
		}
		if rekeyed.DecoyParams(name) != h.DecoyParams(name) {
			differ++
		}
	}
	if differ == 0 {
		t.Error("the key does not influence the choice")
	}

	// A census with nothing usable in it falls back to the current params.
	h.SetCensus(Census{Counts: map[Params]int{old: 0, {}: 5}})
	if p := h.DecoyParams("x"); p != current {
		t.Errorf("empty census: %+v, want %+v", p, current)
	}
}

func TestVerifyDecoyNeverMatches(t *testing.T) {
	h := New(tinyParams, Limits{})
	h.SetCensus(Census{Counts: map[Params]int{tinyParams: 1, {Memory: 32, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}: 1}})
	for _, name := range []string{"a", "b", "c", "d"} {
		g := h.decoyGroup(name)
		for _, pw := range []string{"", "password"} {
			if ok, _, err := h.Verify(context.Background(), pw, g.hash); ok || err != nil {
				t.Errorf("Verify(%q, decoy of %s) = %v, %v", pw, name, ok, err)
			}
		}
	}
}

func TestVerifyDecoyBusy(t *testing.T) {
	h := New(tinyParams, Limits{MaxConcurrent: 1, MaxQueue: -1})
	b := newBlocker()
	h.idKey = b.idKey
	done := make(chan error)
	go func() { _, err := h.Hash(context.Background(), "holder"); done <- err }()
	<-b.started
	if err := h.VerifyDecoy(context.Background(), "pw", "nobody"); !errors.Is(err, ErrBusy) {
		t.Errorf("VerifyDecoy while full = %v, want ErrBusy", err)
	}
	close(b.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
