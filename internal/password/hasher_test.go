package password

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// tinyParams keep unit tests fast; one test below runs the real defaults.
var tinyParams = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashVerify(t *testing.T) {
	h := New(tinyParams, Limits{})
	ctx := context.Background()
	tests := []struct {
		name, password string
	}{
		{"empty", ""},
		{"ascii", "correct horse battery staple"},
		{"spaces only", "        "},
		{"unicode", "пароль 密码 🔑"},
		{"longest", strings.Repeat("x", MaxPasswordBytes)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			enc, err := h.Hash(ctx, tc.password)
			if err != nil {
				t.Fatalf("Hash: %v", err)
			}
			if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
				t.Errorf("Hash = %q, want PHC with tiny params", enc)
			}
			ok, rehash, err := h.Verify(ctx, tc.password, enc)
			if err != nil || !ok || rehash {
				t.Errorf("Verify(right) = %v, %v, %v; want true, false, nil", ok, rehash, err)
			}
			ok, rehash, err = h.Verify(ctx, tc.password+"x", enc)
			if err != nil || ok || rehash {
				t.Errorf("Verify(wrong) = %v, %v, %v; want false, false, nil", ok, rehash, err)
			}
		})
	}
}

func TestHashSaltsDiffer(t *testing.T) {
	h := New(tinyParams, Limits{})
	a, _ := h.Hash(context.Background(), "same")
	b, _ := h.Hash(context.Background(), "same")
	if a == b {
		t.Fatalf("two hashes of one password are equal: %s", a)
	}
}

// TestDefaultParams runs the real OWASP cost once, end to end.
func TestDefaultParams(t *testing.T) {
	h := New(DefaultParams(), Limits{})
	ctx := context.Background()
	enc, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("Hash = %q", enc)
	}
	if ok, rehash, err := h.Verify(ctx, "correct horse battery staple", enc); !ok || rehash || err != nil {
		t.Errorf("Verify = %v, %v, %v", ok, rehash, err)
	}
}

// TestVerifyReferenceVectors verifies hashes made by the reference argon2
// CLI, including other params, which must ask for a rehash.
func TestVerifyReferenceVectors(t *testing.T) {
	h := New(DefaultParams(), Limits{})
	for _, v := range referenceVectors {
		t.Run(v.password, func(t *testing.T) {
			ok, rehash, err := h.Verify(context.Background(), v.password, v.encoded)
			if err != nil || !ok {
				t.Fatalf("Verify = %v, %v, %v", ok, rehash, err)
			}
			if want := v.params != DefaultParams(); rehash != want {
				t.Errorf("needsRehash = %v, want %v", rehash, want)
			}
		})
	}
}

// TestVerifyNormalizes: NFKC makes the composed and decomposed spellings of
// "pässwörd" (and the "ﬁ" ligature and "fi") the same password.
func TestVerifyNormalizes(t *testing.T) {
	h := New(tinyParams, Limits{})
	ctx := context.Background()
	tests := []struct{ name, hashed, typed string }{
		{"decomposed", "p\u00e4ssw\u00f6rd", "pa\u0308sswo\u0308rd"},
		{"ligature", "\ufb01ne print", "fine print"},
		{"fullwidth", "ｐａｓｓ", "pass"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			enc, err := h.Hash(ctx, tc.hashed)
			if err != nil {
				t.Fatal(err)
			}
			if ok, _, err := h.Verify(ctx, tc.typed, enc); !ok || err != nil {
				t.Errorf("Verify(%q) against Hash(%q) = %v, %v", tc.typed, tc.hashed, ok, err)
			}
		})
	}
	// The reference vector was hashed from the composed form.
	v := referenceVectors[2]
	if ok, _, err := New(DefaultParams(), Limits{}).Verify(ctx, "pa\u0308ss wo\u0308rd", v.encoded); !ok || err != nil {
		t.Errorf("decomposed input against reference vector = %v, %v", ok, err)
	}
}

func TestVerifyTampered(t *testing.T) {
	h := New(tinyParams, Limits{})
	ctx := context.Background()
	enc, err := h.Hash(ctx, "hunter2 hunter2")
	if err != nil {
		t.Fatal(err)
	}
	// Change every character of the string in turn, to a valid base64
	// character and to a digit: each result must be rejected as malformed
	// or fail to match, never verify.
	for i := range len(enc) {
		for _, c := range []byte{'A', 'B', '7'} {
			if enc[i] == c {
				continue
			}
			bad := enc[:i] + string(c) + enc[i+1:]
			ok, _, err := h.Verify(ctx, "hunter2 hunter2", bad)
			if ok {
				t.Fatalf("tampered hash %q verified", bad)
			}
			if err != nil && !errors.Is(err, ErrInvalidHash) {
				t.Fatalf("tampered hash %q: %v", bad, err)
			}
		}
	}
}

func TestVerifyInvalidHashDoesNoWork(t *testing.T) {
	h := New(tinyParams, Limits{})
	var calls atomic.Int64
	h.idKey = func(pw, salt []byte, t, m uint32, p uint8, l uint32) []byte { calls.Add(1); return make([]byte, l) }
	for _, enc := range []string{"", "plaintext", "$argon2id$v=19$m=4294967295,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA"} {
		ok, rehash, err := h.Verify(context.Background(), "pw", enc)
		if ok || rehash || !errors.Is(err, ErrInvalidHash) {
			t.Errorf("Verify(%q) = %v, %v, %v; want ErrInvalidHash", enc, ok, rehash, err)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("argon2 ran %d times for invalid hashes", n)
	}
}

func TestNeedsRehash(t *testing.T) {
	ctx := context.Background()
	old := New(tinyParams, Limits{})
	enc, err := old.Hash(ctx, "pw")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		params     Params
		wantRehash bool
	}{
		{"same params", tinyParams, false},
		{"more memory", Params{Memory: 128, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, true},
		{"more time", Params{Memory: 64, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}, true},
		{"more threads", Params{Memory: 64, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32}, true},
		{"longer salt", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 32, KeyLen: 32}, true},
		{"longer key", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 64}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := New(tc.params, Limits{})
			ok, rehash, err := h.Verify(ctx, "pw", enc)
			if !ok || err != nil {
				t.Fatalf("Verify = %v, %v: a hash at old params must still verify", ok, err)
			}
			if rehash != tc.wantRehash {
				t.Errorf("needsRehash = %v, want %v", rehash, tc.wantRehash)
			}
			// A wrong password never asks for a rehash.
			if _, rehash, _ := h.Verify(ctx, "wrong", enc); rehash {
				t.Error("needsRehash on a wrong password")
			}
		})
	}
}

func TestPasswordTooLong(t *testing.T) {
	h := New(tinyParams, Limits{})
	var calls atomic.Int64
	h.idKey = func(pw, salt []byte, t, m uint32, p uint8, l uint32) []byte { calls.Add(1); return make([]byte, l) }
	ctx := context.Background()
	long := strings.Repeat("x", MaxPasswordBytes+1)
	if _, err := h.Hash(ctx, long); !errors.Is(err, ErrPasswordTooLong) {
		t.Errorf("Hash(long) err = %v, want ErrPasswordTooLong", err)
	}
	// U+FDFA expands to 18 code points under NFKC: short raw, long normalised.
	expands := strings.Repeat("\ufdfa", MaxPasswordBytes/3/3)
	if _, err := h.Hash(ctx, expands); !errors.Is(err, ErrPasswordTooLong) {
		t.Errorf("Hash(expanding) err = %v, want ErrPasswordTooLong", err)
	}
	enc := encodePHC(tinyParams, make([]byte, 16), make([]byte, 32))
	if ok, _, err := h.Verify(ctx, long, enc); ok || err != nil {
		t.Errorf("Verify(long) = %v, %v; want false, nil", ok, err)
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("argon2 ran %d times for over-long passwords", n)
	}
}

func TestNewRejectsInvalidParams(t *testing.T) {
	tests := []struct {
		name   string
		params Params
	}{
		{"zero", Params{}},
		{"memory over cap", Params{Memory: maxMemoryKiB + 1, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}},
		{"short key", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 8}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.params.Validate() == nil {
				t.Fatal("Validate accepted")
			}
			defer func() {
				if recover() == nil {
					t.Error("New did not panic")
				}
			}()
			New(tc.params, Limits{})
		})
	}
	if err := DefaultParams().Validate(); err != nil {
		t.Errorf("DefaultParams invalid: %v", err)
	}
}

func TestLimitsDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   Limits
		want Limits
	}{
		{"zero", Limits{}, Limits{runtime.NumCPU(), 4 * runtime.NumCPU(), 2 * time.Second}},
		{"set", Limits{3, 5, time.Second}, Limits{3, 5, time.Second}},
		{"queue from concurrency", Limits{MaxConcurrent: 3}, Limits{3, 12, 2 * time.Second}},
		{"no queue", Limits{MaxConcurrent: 1, MaxQueue: -1}, Limits{1, 0, 2 * time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.in.withDefaults(); got != tc.want {
				t.Errorf("withDefaults() = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// blocker is an idKey that holds its slot until released, so tests can fill
// the gate deterministically.
type blocker struct {
	calls   atomic.Int64
	started chan struct{}
	release chan struct{}
}

func newBlocker() *blocker {
	return &blocker{started: make(chan struct{}, 100), release: make(chan struct{})}
}

func (b *blocker) idKey(pw, salt []byte, t, m uint32, p uint8, l uint32) []byte {
	b.calls.Add(1)
	b.started <- struct{}{}
	<-b.release
	return make([]byte, l)
}

func TestErrBusyWhenQueueFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		goroutines := runtime.NumGoroutine()
		h := New(tinyParams, Limits{MaxConcurrent: 1, MaxQueue: 1, MaxWait: time.Minute})
		b := newBlocker()
		h.idKey = b.idKey
		ctx := context.Background()

		errs := make(chan error, 2)
		go func() { _, err := h.Hash(ctx, "first"); errs <- err }()
		<-b.started // first holds the only slot
		go func() { _, err := h.Hash(ctx, "second"); errs <- err }()
		synctest.Wait() // second is parked in the queue
		if got := h.Stats().Queued; got != 1 {
			t.Fatalf("Queued = %d once the second caller waits, want 1", got)
		}

		// The queue is full: the third caller is turned away at once, without
		// waiting MaxWait (a minute) and without hashing.
		begin := time.Now() // the bubble's clock: it moves only if a caller waits
		if _, err := h.Hash(ctx, "third"); !errors.Is(err, ErrBusy) {
			t.Fatalf("third Hash err = %v, want ErrBusy", err)
		}
		if _, _, err := h.Verify(ctx, "fourth", h.dummy); !errors.Is(err, ErrBusy) {
			t.Fatalf("fourth Verify err = %v, want ErrBusy", err)
		}
		if err := h.VerifyDummy(ctx, "fifth"); !errors.Is(err, ErrBusy) {
			t.Fatalf("fifth VerifyDummy err = %v, want ErrBusy", err)
		}
		if d := time.Since(begin); d != 0 {
			t.Errorf("the callers turned away waited %v, want no wait", d)
		}
		if got, want := h.Stats(), (Stats{InFlight: 1, Queued: 1, Rejected: 3}); got != want {
			t.Errorf("Stats while full = %+v, want %+v", got, want)
		}
		if n := b.calls.Load(); n != 1 {
			t.Errorf("argon2 calls while full = %d, want 1", n)
		}

		close(b.release)
		for range 2 {
			if err := <-errs; err != nil {
				t.Errorf("queued caller: %v", err)
			}
		}
		if n := b.calls.Load(); n != 2 {
			t.Errorf("argon2 calls = %d, want 2 (first and second only)", n)
		}
		if got, want := h.Stats(), (Stats{Rejected: 3}); got != want {
			t.Errorf("Stats after = %+v, want %+v", got, want)
		}
		synctest.Wait() // the callers' goroutines have returned, or are stuck
		if n := runtime.NumGoroutine(); n > goroutines {
			t.Errorf("%d goroutines after the callers returned, want at most %d as before", n, goroutines)
		}
	})
}

func TestErrBusyWhileQueued(t *testing.T) {
	tests := []struct {
		name    string
		maxWait time.Duration
		ctx     func() (context.Context, context.CancelFunc)
		wantCtx error // also matched by the error, or nil
	}{
		{
			name:    "ctx deadline",
			maxWait: time.Minute,
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 10*time.Millisecond)
			},
			wantCtx: context.DeadlineExceeded,
		},
		{
			name:    "MaxWait",
			maxWait: 10 * time.Millisecond,
			ctx:     func() (context.Context, context.CancelFunc) { return context.Background(), func() {} },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := New(tinyParams, Limits{MaxConcurrent: 1, MaxQueue: 1, MaxWait: tc.maxWait})
			b := newBlocker()
			h.idKey = b.idKey
			done := make(chan error)
			go func() { _, err := h.Hash(context.Background(), "holder"); done <- err }()
			<-b.started

			ctx, cancel := tc.ctx()
			defer cancel()
			_, _, err := h.Verify(ctx, "waiter", h.dummy)
			if !errors.Is(err, ErrBusy) {
				t.Fatalf("queued Verify err = %v, want ErrBusy", err)
			}
			if tc.wantCtx != nil && !errors.Is(err, tc.wantCtx) {
				t.Errorf("err = %v, want it to match %v too", err, tc.wantCtx)
			}
			if got, want := h.Stats(), (Stats{InFlight: 1, Queued: 0, Rejected: 1}); got != want {
				t.Errorf("Stats = %+v, want %+v", got, want)
			}
			close(b.release)
			if err := <-done; err != nil {
				t.Errorf("holder: %v", err)
			}
			if n := b.calls.Load(); n != 1 {
				t.Errorf("argon2 calls = %d, want 1 (the waiter must not hash)", n)
			}
		})
	}
}

func TestErrBusyOnDoneContext(t *testing.T) {
	h := New(tinyParams, Limits{MaxConcurrent: 1})
	var calls atomic.Int64
	h.idKey = func(pw, salt []byte, t, m uint32, p uint8, l uint32) []byte { calls.Add(1); return make([]byte, l) }
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// A slot is free, but the caller has gone.
	_, err := h.Hash(ctx, "pw")
	if !errors.Is(err, ErrBusy) || !errors.Is(err, context.Canceled) {
		t.Errorf("Hash err = %v, want ErrBusy and context.Canceled", err)
	}
	if calls.Load() != 0 {
		t.Error("hashed for a cancelled context")
	}
}

// TestConcurrencyBounded: however many callers, no more than MaxConcurrent
// derivations run at once, and every admitted caller completes.
func TestConcurrencyBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const slots, callers = 2, 32
		h := New(tinyParams, Limits{MaxConcurrent: slots, MaxQueue: callers, MaxWait: time.Minute})
		var running, peak atomic.Int64
		release := make(chan struct{})
		h.idKey = func(pw, salt []byte, t, m uint32, p uint8, l uint32) []byte {
			n := running.Add(1)
			for old := peak.Load(); n > old && !peak.CompareAndSwap(old, n); old = peak.Load() {
			}
			<-release // hold the slot until the test ends this derivation
			running.Add(-1)
			return make([]byte, l)
		}
		var wg sync.WaitGroup
		for range callers {
			wg.Go(func() {
				if _, err := h.Hash(context.Background(), "pw"); err != nil {
					t.Error(err)
				}
			})
		}
		// End one derivation at a time. Each time every caller is parked (in
		// a derivation or in the queue), the slots are all in use and no
		// more: a freed slot goes to a waiting caller.
		for done := range callers {
			synctest.Wait()
			busy := min(slots, callers-done)
			want := Stats{InFlight: busy, Queued: callers - done - busy}
			if n, got := running.Load(), h.Stats(); n != int64(busy) || got != want {
				t.Fatalf("after %d derivations: %d running, Stats %+v; want %d running, Stats %+v", done, n, got, busy, want)
			}
			release <- struct{}{}
		}
		wg.Wait()
		if p := peak.Load(); p > slots {
			t.Errorf("peak concurrent derivations = %d, want ≤ %d", p, slots)
		}
		if got, want := h.Stats(), (Stats{}); got != want {
			t.Errorf("Stats after = %+v, want %+v", got, want)
		}
	})
}

// TestVerifyDummyDoesTheWork: VerifyDummy runs one Argon2id derivation at the
// Hasher's current params, just as Verify of a real hash does, and never
// reports a match.
func TestVerifyDummyDoesTheWork(t *testing.T) {
	type call struct {
		saltLen, time, memory uint32
		threads               uint8
		keyLen                uint32
	}
	h := New(tinyParams, Limits{})
	var mu sync.Mutex
	var calls []call
	h.idKey = func(pw, salt []byte, t, m uint32, p uint8, l uint32) []byte {
		mu.Lock()
		calls = append(calls, call{uint32(len(salt)), t, m, p, l})
		mu.Unlock()
		return make([]byte, l) // all zeros: would "match" a zero key, which the dummy is not
	}
	ctx := context.Background()
	stored := encodePHC(tinyParams, make([]byte, 16), []byte(strings.Repeat("k", 32)))
	if _, _, err := h.Verify(ctx, "pw", stored); err != nil {
		t.Fatal(err)
	}
	if err := h.VerifyDummy(ctx, "pw"); err != nil {
		t.Fatalf("VerifyDummy: %v", err)
	}
	if len(calls) != 2 {
		t.Fatalf("derivations = %d, want 1 per call", len(calls))
	}
	want := call{tinyParams.SaltLen, tinyParams.Time, tinyParams.Memory, tinyParams.Threads, tinyParams.KeyLen}
	if calls[0] != want || calls[1] != want {
		t.Errorf("Verify derived with %+v, VerifyDummy with %+v; want both %+v", calls[0], calls[1], want)
	}
}

func TestVerifyDummyNeverMatches(t *testing.T) {
	h := New(tinyParams, Limits{})
	for _, pw := range []string{"", "password", "correct horse battery staple"} {
		if ok, _, err := h.Verify(context.Background(), pw, h.dummy); ok || err != nil {
			t.Errorf("Verify(%q, dummy) = %v, %v", pw, ok, err)
		}
		if err := h.VerifyDummy(context.Background(), pw); err != nil {
			t.Errorf("VerifyDummy(%q) = %v", pw, err)
		}
	}
	if New(tinyParams, Limits{}).dummy == h.dummy {
		t.Error("two Hashers share a dummy hash")
	}
}
