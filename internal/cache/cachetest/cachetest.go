package cachetest

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/internal/cache"
)

// Long is a TTL that outlives any test.
const Long = time.Hour

// Run runs the conformance suite. newCache must return a fresh cache that no
// other test writes to (a fresh Redis prefix, a fresh L1); Run closes nothing,
// so newCache registers its own clean-up with t.Cleanup.
func Run(t *testing.T, newCache func(t *testing.T) cache.Cache) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, c cache.Cache)
	}{
		{"SetGetDelete", testSetGetDelete},
		{"Missing", testMissing},
		{"Overwrite", testOverwrite},
		{"BinaryValues", testBinaryValues},
		{"EmptyValueIsNotMiss", testEmptyValue},
		{"LargeValue", testLargeValue},
		{"DeleteMany", testDeleteMany},
		{"TTLExpiry", testTTLExpiry},
		{"OverwriteResetsTTL", testOverwriteResetsTTL},
		{"NonPositiveTTLNotStored", testNonPositiveTTL},
		{"ValueIsolation", testValueIsolation},
		{"Concurrent", testConcurrent},
		{"MGet", testMGet},
		{"Loader", testLoader},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, newCache(t))
		})
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// MustGet returns the value of key, failing the test on an error.
func MustGet(t testing.TB, c cache.Cache, key string) ([]byte, bool) {
	t.Helper()
	v, ok, err := c.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if !ok && v != nil {
		t.Fatalf("Get(%q) missed but returned %q", key, v)
	}
	return v, ok
}

// MustSet stores value under key, failing the test on an error.
func MustSet(t testing.TB, c cache.Cache, key string, value []byte, ttl time.Duration) {
	t.Helper()
	if err := c.Set(context.Background(), key, value, ttl); err != nil {
		t.Fatalf("Set(%q): %v", key, err)
	}
}

// WantValue fails the test unless key holds want.
func WantValue(t testing.TB, c cache.Cache, key string, want []byte) {
	t.Helper()
	got, ok := MustGet(t, c, key)
	if !ok {
		t.Fatalf("Get(%q): miss, want %q", key, want)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Get(%q) = %q, want %q", key, got, want)
	}
}

// WantMiss fails the test unless key is absent.
func WantMiss(t testing.TB, c cache.Cache, key string) {
	t.Helper()
	if got, ok := MustGet(t, c, key); ok {
		t.Fatalf("Get(%q) = %q, want a miss", key, got)
	}
}

// Eventually polls cond every few milliseconds until it holds, and fails the
// test if it still does not after timeout.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func testSetGetDelete(t *testing.T, c cache.Cache) {
	ctx := ctxT(t)
	MustSet(t, c, "intro:a", []byte("alpha"), Long)
	WantValue(t, c, "intro:a", []byte("alpha"))
	if err := c.Delete(ctx, "intro:a"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	WantMiss(t, c, "intro:a")
}

func testMissing(t *testing.T, c cache.Cache) {
	ctx := ctxT(t)
	WantMiss(t, c, "intro:never-set")
	WantMiss(t, c, "no-kind-at-all")
	if err := c.Delete(ctx, "intro:never-set"); err != nil {
		t.Fatalf("Delete of an absent key: %v", err)
	}
	if err := c.Delete(ctx); err != nil {
		t.Fatalf("Delete of no keys: %v", err)
	}
}

func testOverwrite(t *testing.T, c cache.Cache) {
	MustSet(t, c, "client:x", []byte("one"), Long)
	MustSet(t, c, "client:x", []byte("two, longer"), Long)
	WantValue(t, c, "client:x", []byte("two, longer"))
	MustSet(t, c, "client:x", []byte("3"), Long)
	WantValue(t, c, "client:x", []byte("3"))
}

func testBinaryValues(t *testing.T, c cache.Cache) {
	all := make([]byte, 512)
	for i := range all {
		all[i] = byte(i)
	}
	tests := []struct {
		name  string
		value []byte
	}{
		{"every byte", all},
		{"nul only", []byte{0}},
		{"crlf", []byte("a\r\nb\r\n")},
		{"invalid utf8", []byte{0xff, 0xfe, 0xc3}},
	}
	for i, tc := range tests {
		key := fmt.Sprintf("bin:%d", i)
		MustSet(t, c, key, tc.value, Long)
		WantValue(t, c, key, tc.value)
	}
}

func testEmptyValue(t *testing.T, c cache.Cache) {
	MustSet(t, c, "neg:empty", []byte{}, Long)
	MustSet(t, c, "neg:nil", nil, Long)
	for _, k := range []string{"neg:empty", "neg:nil"} {
		v, ok := MustGet(t, c, k)
		if !ok {
			t.Fatalf("Get(%q): miss, want a present empty value", k)
		}
		if len(v) != 0 {
			t.Fatalf("Get(%q) = %q, want empty", k, v)
		}
	}
	WantMiss(t, c, "neg:absent")
}

func testLargeValue(t *testing.T, c cache.Cache) {
	v := bytes.Repeat([]byte("0123456789abcdef"), 64<<10/16)
	MustSet(t, c, "jwks:big", v, Long)
	WantValue(t, c, "jwks:big", v)
}

func testDeleteMany(t *testing.T, c cache.Cache) {
	ctx := ctxT(t)
	var keys []string
	for i := range 150 {
		k := fmt.Sprintf("intro:%03d", i)
		keys = append(keys, k)
		MustSet(t, c, k, []byte(k), Long)
	}
	MustSet(t, c, "intro:keep", []byte("kept"), Long)
	// Absent keys mixed in are not an error.
	if err := c.Delete(ctx, append(keys, "intro:absent")...); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	for _, k := range keys {
		WantMiss(t, c, k)
	}
	WantValue(t, c, "intro:keep", []byte("kept"))
}

func testTTLExpiry(t *testing.T, c cache.Cache) {
	// The clock starts once the short entry is stored: the second Set may
	// take a while on a loaded machine, and must not count against its TTL.
	MustSet(t, c, "neg:short", []byte("v"), 100*time.Millisecond)
	start := time.Now()
	MustSet(t, c, "neg:long", []byte("v"), Long)
	Eventually(t, 3*time.Second, "entry with a 100ms TTL still present", func() bool {
		_, ok := MustGet(t, c, "neg:short")
		return !ok
	})
	if d := time.Since(start); d < 90*time.Millisecond {
		// Allow for millisecond rounding in Redis; anything much earlier
		// means the TTL was not honoured.
		t.Fatalf("entry expired after %v, before its 100ms TTL", d)
	}
	WantValue(t, c, "neg:long", []byte("v"))
}

func testOverwriteResetsTTL(t *testing.T, c cache.Cache) {
	MustSet(t, c, "intro:k", []byte("short"), 100*time.Millisecond)
	MustSet(t, c, "intro:k", []byte("long"), Long)
	time.Sleep(250 * time.Millisecond)
	WantValue(t, c, "intro:k", []byte("long"))

	MustSet(t, c, "intro:j", []byte("long"), Long)
	MustSet(t, c, "intro:j", []byte("short"), 100*time.Millisecond)
	Eventually(t, 3*time.Second, "overwrite with a short TTL did not shorten the entry's life", func() bool {
		_, ok := MustGet(t, c, "intro:j")
		return !ok
	})
}

func testNonPositiveTTL(t *testing.T, c cache.Cache) {
	MustSet(t, c, "intro:zero", []byte("v"), 0)
	MustSet(t, c, "intro:neg", []byte("v"), -time.Second)
	WantMiss(t, c, "intro:zero")
	WantMiss(t, c, "intro:neg")
}

func testValueIsolation(t *testing.T, c cache.Cache) {
	buf := []byte("original")
	MustSet(t, c, "client:iso", buf, Long)
	copy(buf, "MUTATED!") // the caller reuses its buffer once Set returns
	WantValue(t, c, "client:iso", []byte("original"))
}

func testConcurrent(t *testing.T, c cache.Cache) {
	ctx := ctxT(t)
	const workers, rounds, keys = 8, 200, 16
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 0, 32)
			for i := range rounds {
				k := fmt.Sprintf("intro:%d", (w+i)%keys)
				// Every writer of a key writes a value naming the key, so
				// any value a reader sees can be checked whole.
				buf = append(buf[:0], k...)
				buf = append(buf, '=', byte('a'+w))
				if err := c.Set(ctx, k, buf, Long); err != nil {
					errs <- err
					return
				}
				v, ok, err := c.Get(ctx, k)
				if err != nil {
					errs <- err
					return
				}
				if ok && (len(v) != len(k)+2 || string(v[:len(k)]) != k) {
					errs <- fmt.Errorf("Get(%q) = %q: torn or foreign value", k, v)
					return
				}
				if i%50 == 0 {
					if err := c.Delete(ctx, k); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func testMGet(t *testing.T, c cache.Cache) {
	ctx := ctxT(t)
	var keys []string
	for i := range 100 {
		k := fmt.Sprintf("intro:m%03d", i)
		keys = append(keys, k)
		if i%3 != 0 {
			MustSet(t, c, k, []byte(k), Long)
		}
	}
	MustSet(t, c, "neg:empty", []byte{}, Long)
	keys = append(keys, "neg:empty", "intro:m001") // a repeated key is answered twice
	// GetMany uses MGet when the tier has one.
	got, err := cache.GetMany(ctx, c, keys)
	if err != nil {
		t.Fatalf("GetMany: %v", err)
	}
	if len(got) != len(keys) {
		t.Fatalf("GetMany returned %d slots for %d keys", len(got), len(keys))
	}
	for i, k := range keys {
		switch {
		case k == "neg:empty":
			if got[i] == nil || len(got[i]) != 0 {
				t.Fatalf("slot %d (%s) = %#v, want a non-nil empty value", i, k, got[i])
			}
		case i < 100 && i%3 == 0:
			if got[i] != nil {
				t.Fatalf("slot %d (%s) = %q, want nil (miss)", i, k, got[i])
			}
		default:
			if string(got[i]) != k {
				t.Fatalf("slot %d = %q, want %q", i, got[i], k)
			}
		}
	}
	if _, ok := c.(cache.MultiGetter); ok {
		empty, err := c.(cache.MultiGetter).MGet(ctx, nil)
		if err != nil || len(empty) != 0 {
			t.Fatalf("MGet(nil) = %v, %v; want no slots and no error", empty, err)
		}
	}
}

func testLoader(t *testing.T, c cache.Cache) {
	ctx := ctxT(t)
	l := cache.NewLoader(c)
	var calls int
	var mu sync.Mutex
	load := func(context.Context) ([]byte, time.Duration, error) {
		mu.Lock()
		calls++
		mu.Unlock()
		return []byte("loaded"), Long, nil
	}
	for range 3 {
		v, err := l.Get(ctx, "client:loaded", load)
		if err != nil || string(v) != "loaded" {
			t.Fatalf("Loader.Get = %q, %v", v, err)
		}
	}
	if calls != 1 {
		t.Fatalf("load ran %d times for three sequential reads, want 1 (the value is cached)", calls)
	}
	WantValue(t, c, "client:loaded", []byte("loaded"))
}
