package dpop_test

import (
	"bytes"
	"crypto/rand"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/internal/dpop"
)

const nonceWindow = 5 * time.Minute

// newNonces returns Nonces under a fresh random key.
func newNonces(t testing.TB) *dpop.Nonces {
	t.Helper()
	n, err := dpop.NewNonces(randomKey(t), nonceWindow)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func randomKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func TestNonces(t *testing.T) {
	key := randomKey(t)
	n, err := dpop.NewNonces(key, nonceWindow)
	if err != nil {
		t.Fatal(err)
	}
	start := t0.Truncate(nonceWindow)
	cur := n.Current(start)
	if len(cur) != 22 {
		t.Fatalf("nonce %q is %d characters; want 22 (128 bits, base64url)", cur, len(cur))
	}
	// One nonce for the whole window.
	if got := n.Current(start.Add(nonceWindow - time.Nanosecond)); got != cur {
		t.Fatalf("nonce changed within its window: %q, then %q", cur, got)
	}
	next := n.Current(start.Add(nonceWindow))
	if next == cur {
		t.Fatal("nonce did not change with the window")
	}
	tests := []struct {
		name  string
		nonce string
		at    time.Time
		want  bool
	}{
		{"in its window", cur, start, true},
		{"at the end of its window", cur, start.Add(nonceWindow - time.Nanosecond), true},
		{"in the next window", cur, start.Add(nonceWindow), true},
		{"at the end of the next window", cur, start.Add(2*nonceWindow - time.Nanosecond), true},
		{"two windows later", cur, start.Add(2 * nonceWindow), false},
		{"an hour later", cur, start.Add(time.Hour), false},
		{"one window early (a replica whose clock is ahead made it)", next, start, true},
		{"two windows early", n.Current(start.Add(2 * nonceWindow)), start, false},
		{"empty", "", start, false},
		{"truncated", cur[:21], start, false},
		{"extended", cur + "A", start, false},
		{"in another case", string(bytes.ToUpper([]byte(cur))), start, cur == string(bytes.ToUpper([]byte(cur)))},
	}
	for _, tc := range tests {
		if got := n.Valid(tc.nonce, tc.at); got != tc.want {
			t.Errorf("%s: Valid = %v; want %v", tc.name, got, tc.want)
		}
	}

	// Another replica with the same key agrees; one with another key or
	// another window length does not.
	same, _ := dpop.NewNonces(key, nonceWindow)
	if same.Current(start) != cur || !same.Valid(cur, start) {
		t.Fatal("two Nonces with one key disagree")
	}
	otherKey, _ := dpop.NewNonces(randomKey(t), nonceWindow)
	if otherKey.Valid(cur, start) {
		t.Fatal("a nonce is valid under another key")
	}
	otherWindow, _ := dpop.NewNonces(key, nonceWindow*2)
	if otherWindow.Current(start) == cur {
		t.Fatal("window length does not change the nonce")
	}
	// The key is copied.
	key[0] ^= 1
	if n.Current(start) != cur {
		t.Fatal("changing the caller's key changed the nonces")
	}
}

func TestNewNoncesArguments(t *testing.T) {
	if _, err := dpop.NewNonces(make([]byte, 31), time.Minute); err == nil {
		t.Error("31-byte key accepted")
	}
	if _, err := dpop.NewNonces(make([]byte, 32), time.Millisecond); err == nil {
		t.Error("1 ms window accepted")
	}
	n, err := dpop.NewNonces(make([]byte, 32), 0)
	if err != nil {
		t.Fatal(err)
	}
	start := t0.Truncate(dpop.DefaultNonceWindow)
	if n.Current(start) != n.Current(start.Add(dpop.DefaultNonceWindow-1)) || n.Current(start) == n.Current(start.Add(dpop.DefaultNonceWindow)) {
		t.Fatal("zero window is not DefaultNonceWindow")
	}
}

// TestNoncesConcurrent: goroutines asking about different windows at once
// (replicas' requests straddling a change) each get their window's answer.
func TestNoncesConcurrent(t *testing.T) {
	n := newNonces(t)
	start := t0.Truncate(nonceWindow)
	ref := make([]string, 4)
	for i := range ref {
		ref[i] = n.Current(start.Add(time.Duration(i) * nonceWindow))
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				w := (g + i) % 4
				at := start.Add(time.Duration(w) * nonceWindow)
				if got := n.Current(at); got != ref[w] {
					t.Errorf("Current(window %d) = %q; want %q", w, got, ref[w])
					return
				}
				if !n.Valid(ref[w], at) {
					t.Errorf("Valid(own nonce, window %d) = false", w)
					return
				}
			}
		})
	}
	wg.Wait()
}
