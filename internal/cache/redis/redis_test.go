package redis_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authd/authd/internal/cache"
	"github.com/authd/authd/internal/cache/cachetest"
	"github.com/authd/authd/internal/cache/internal/redistest"
	"github.com/authd/authd/internal/cache/internal/tcpproxy"
	"github.com/authd/authd/internal/cache/redis"
)

func newKey(t testing.TB) []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return k
}

// open returns a Cache on the test Redis; opts.URL and opts.Prefix default to
// the test's own.
func open(t testing.TB, opts redis.Options) *redis.Cache {
	t.Helper()
	if opts.URL == "" {
		url, prefix := redistest.Setup(t)
		opts.URL = url
		if opts.Prefix == "" {
			opts.Prefix = prefix
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := redis.New(ctx, opts)
	if err != nil {
		t.Fatalf("redis.New: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestConformance(t *testing.T) {
	tests := []struct {
		name string
		key  bool
	}{
		{"Clear", false},
		{"Sealed", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cachetest.Run(t, func(t *testing.T) cache.Cache {
				opts := redis.Options{Timeout: 2 * time.Second}
				if tc.key {
					opts.EncryptionKey = newKey(t)
				}
				return open(t, opts)
			})
		})
	}
}

func TestEncryption(t *testing.T) {
	url, prefix := redistest.Setup(t)
	raw := redistest.Raw(t, url)
	ctx := context.Background()
	key := newKey(t)
	c := open(t, redis.Options{URL: url, Prefix: prefix, EncryptionKey: key})
	secret := []byte(`{"active":true,"sub":"alice","scope":"openid"}`)
	cachetest.MustSet(t, c, "intro:aaa", secret, time.Minute)

	stored, err := raw.Do(ctx, raw.B().Get().Key(prefix+"intro:aaa").Build()).AsBytes()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(stored, secret) || bytes.Contains(stored, []byte("alice")) {
		t.Fatalf("stored value holds the plaintext: %q", stored)
	}

	t.Run("copied to another key does not open", func(t *testing.T) {
		if err := raw.Do(ctx, raw.B().Set().Key(prefix+"intro:bbb").Value(string(stored)).Build()).Error(); err != nil {
			t.Fatal(err)
		}
		v, ok, err := c.Get(ctx, "intro:bbb")
		if !errors.Is(err, redis.ErrCorrupt) || ok || v != nil {
			t.Fatalf("Get of a moved value = %q, %v, %v; want a miss with ErrCorrupt", v, ok, err)
		}
		// A batch reports it as a miss rather than failing every other key.
		got, err := c.MGet(ctx, []string{"intro:aaa", "intro:bbb"})
		if err != nil || !bytes.Equal(got[0], secret) || got[1] != nil {
			t.Fatalf("MGet = %q, %v; want [secret, nil]", got, err)
		}
	})
	t.Run("tampered byte does not open", func(t *testing.T) {
		bad := bytes.Clone(stored)
		bad[len(bad)-20] ^= 1
		if err := raw.Do(ctx, raw.B().Set().Key(prefix+"intro:ccc").Value(string(bad)).Build()).Error(); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Get(ctx, "intro:ccc"); !errors.Is(err, redis.ErrCorrupt) {
			t.Fatalf("err = %v, want ErrCorrupt", err)
		}
	})
	t.Run("another encryption key does not open", func(t *testing.T) {
		other := open(t, redis.Options{URL: url, Prefix: prefix, EncryptionKey: newKey(t)})
		if _, _, err := other.Get(ctx, "intro:aaa"); !errors.Is(err, redis.ErrCorrupt) {
			t.Fatalf("err = %v, want ErrCorrupt", err)
		}
	})
	t.Run("clear value rejected when sealing is required", func(t *testing.T) {
		clear := open(t, redis.Options{URL: url, Prefix: prefix})
		cachetest.MustSet(t, clear, "intro:clear", []byte("injected"), time.Minute)
		if _, _, err := c.Get(ctx, "intro:clear"); !errors.Is(err, redis.ErrCorrupt) {
			t.Fatalf("err = %v, want ErrCorrupt", err)
		}
		// And the reverse: a clear cache does not mistake a sealed value for data.
		if _, _, err := clear.Get(ctx, "intro:aaa"); !errors.Is(err, redis.ErrCorrupt) {
			t.Fatalf("err = %v, want ErrCorrupt", err)
		}
	})
	t.Run("garbage", func(t *testing.T) {
		for i, v := range []string{"", "x", "\x02short"} {
			k := fmt.Sprintf("intro:garbage%d", i)
			if err := raw.Do(ctx, raw.B().Set().Key(prefix+k).Value(v).Build()).Error(); err != nil {
				t.Fatal(err)
			}
			if _, _, err := c.Get(ctx, k); !errors.Is(err, redis.ErrCorrupt) {
				t.Fatalf("Get(%q) err = %v, want ErrCorrupt", v, err)
			}
		}
	})
}

func TestInvalidOptions(t *testing.T) {
	tests := []struct {
		name string
		opts redis.Options
	}{
		{"short key", redis.Options{URL: "redis://127.0.0.1:1", EncryptionKey: make([]byte, 16)}},
		{"bad scheme", redis.Options{URL: "http://127.0.0.1:6379"}},
		{"bad db", redis.Options{URL: "redis://127.0.0.1:6379/notanumber"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if c, err := redis.New(context.Background(), tc.opts); err == nil {
				c.Close()
				t.Fatal("New succeeded, want an error")
			}
		})
	}
}

func TestEntryExpiry(t *testing.T) {
	url, prefix := redistest.Setup(t)
	raw := redistest.Raw(t, url)
	c := open(t, redis.Options{URL: url, Prefix: prefix})
	ctx := context.Background()
	before := time.Now()
	cachetest.MustSet(t, c, "intro:e", []byte("v"), 30*time.Second)
	e, ok, err := c.GetEntry(ctx, "intro:e")
	if err != nil || !ok {
		t.Fatalf("GetEntry = %v, %v", ok, err)
	}
	if lo, hi := before.Add(30*time.Second-time.Millisecond), time.Now().Add(30*time.Second+time.Millisecond); e.Expires.Before(lo) || e.Expires.After(hi) {
		t.Fatalf("Expires = %v, want within [%v, %v]", e.Expires, lo, hi)
	}
	pttl, err := raw.Do(ctx, raw.B().Pttl().Key(prefix+"intro:e").Build()).AsInt64()
	if err != nil || pttl <= 29_000 || pttl > 30_000 {
		t.Fatalf("PTTL = %d, %v; want just under 30000 (SET ... PX)", pttl, err)
	}
	es, err := c.MGetEntries(ctx, []string{"intro:e", "intro:none"})
	if err != nil || !es[0].Expires.Equal(e.Expires) || es[1].Value != nil {
		t.Fatalf("MGetEntries = %+v, %v", es, err)
	}
	// A sub-millisecond TTL still stores (rounded up to 1 ms).
	cachetest.MustSet(t, c, "intro:tiny", []byte("v"), time.Microsecond)
}

func TestPrefixIsolation(t *testing.T) {
	url, prefix := redistest.Setup(t)
	a := open(t, redis.Options{URL: url, Prefix: prefix + "a:"})
	b := open(t, redis.Options{URL: url, Prefix: prefix + "b:"})
	cachetest.MustSet(t, a, "client:x", []byte("a's"), time.Minute)
	cachetest.WantMiss(t, b, "client:x")
	if err := b.Delete(context.Background(), "client:x"); err != nil {
		t.Fatal(err)
	}
	cachetest.WantValue(t, a, "client:x", []byte("a's"))
}

// TestBreakerClosedPort points the tier at a port nobody listens on: the first
// calls fail (fast, as the connection is refused) until the breaker trips, and
// then calls fail at once without trying Redis.
func TestBreakerClosedPort(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	start := time.Now()
	c := open(t, redis.Options{URL: "redis://127.0.0.1:1", TripAfter: 3, OpenFor: time.Minute, Registerer: reg})
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("New took %v with Redis down; it must not block startup", d)
	}
	ctx := context.Background()
	if c.Healthy() {
		t.Fatal("Healthy with nothing listening")
	}
	for i := range 3 {
		if _, _, err := c.Get(ctx, "intro:x"); !errors.Is(err, redis.ErrUnavailable) {
			t.Fatalf("call %d: err = %v, want ErrUnavailable", i, err)
		}
	}
	const n = 1000
	start = time.Now()
	for range n {
		_, ok, err := c.Get(ctx, "intro:x")
		if !errors.Is(err, redis.ErrUnavailable) || ok {
			t.Fatalf("Get with the breaker open = %v, %v; want ErrUnavailable", ok, err)
		}
	}
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Fatalf("%d calls with the breaker open took %v; want them to fail at once", n, d)
	}
	for name, err := range map[string]error{
		"Set":     c.Set(ctx, "intro:x", []byte("v"), time.Minute),
		"Delete":  c.Delete(ctx, "intro:x"),
		"Publish": c.Publish(ctx, "ch", []byte("m")),
		"Ping":    c.Ping(ctx),
	} {
		if !errors.Is(err, redis.ErrUnavailable) {
			t.Fatalf("%s: err = %v, want ErrUnavailable", name, err)
		}
	}
	if _, err := c.MGet(ctx, []string{"intro:a", "intro:b"}); !errors.Is(err, redis.ErrUnavailable) {
		t.Fatalf("MGet: err = %v, want ErrUnavailable", err)
	}
	if up := cachetest.MetricValue(t, reg, "authd_cache_redis_up"); up != 0 {
		t.Fatalf("authd_cache_redis_up = %v, want 0", up)
	}
	if errs := cachetest.MetricValue(t, reg, "authd_cache_errors_total", "tier", "redis"); errs < n {
		t.Fatalf("authd_cache_errors_total = %v, want >= %d", errs, n)
	}
}

// TestBreakerHangingServer is the case the breaker exists for: a server that
// accepts connections and never answers makes every call wait out its
// deadline, until the breaker trips; then calls fail at once. When the server
// answers again the breaker's probe closes it without any outside help.
func TestBreakerHangingServer(t *testing.T) {
	url, prefix := redistest.Setup(t)
	proxy := tcpproxy.New(t, redistest.Target(t, url))
	reg := prometheus.NewPedanticRegistry()
	const timeout = 50 * time.Millisecond
	c := open(t, redis.Options{
		URL: redistest.WithHost(t, url, proxy.Addr()), Prefix: prefix,
		Timeout: timeout, TripAfter: 3, OpenFor: 300 * time.Millisecond, Registerer: reg,
	})
	ctx := context.Background()
	cachetest.MustSet(t, c, "intro:k", []byte("v"), time.Minute)
	if !c.Healthy() || cachetest.MetricValue(t, reg, "authd_cache_redis_up") != 1 {
		t.Fatal("not healthy while connected")
	}

	proxy.SetMode(tcpproxy.Hang)
	for i := range 3 {
		start := time.Now()
		_, _, err := c.Get(ctx, "intro:k")
		if !errors.Is(err, redis.ErrUnavailable) {
			t.Fatalf("call %d: err = %v, want ErrUnavailable", i, err)
		}
		if d := time.Since(start); d > timeout+500*time.Millisecond {
			t.Fatalf("call %d took %v; the deadline is %v", i, d, timeout)
		}
	}
	start := time.Now()
	for range 100 {
		if _, _, err := c.Get(ctx, "intro:k"); !errors.Is(err, redis.ErrUnavailable) {
			t.Fatalf("err = %v, want ErrUnavailable", err)
		}
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Fatalf("100 calls after the breaker tripped took %v; each should fail at once, not wait %v", d, timeout)
	}
	if c.Healthy() {
		t.Fatal("Healthy with the breaker open")
	}

	proxy.SetMode(tcpproxy.Forward)
	cachetest.Eventually(t, 5*time.Second, "tier did not recover after Redis came back", func() bool {
		v, ok, err := c.Get(ctx, "intro:k")
		return err == nil && ok && string(v) == "v"
	})
	if !c.Healthy() || cachetest.MetricValue(t, reg, "authd_cache_redis_up") != 1 {
		t.Fatal("not healthy after recovery")
	}
}

// TestStartsWhileRedisDown: a replica must start while Redis is down and pick
// it up when it returns.
func TestStartsWhileRedisDown(t *testing.T) {
	url, prefix := redistest.Setup(t)
	proxy := tcpproxy.New(t, redistest.Target(t, url))
	proxy.SetMode(tcpproxy.Refuse)
	c := open(t, redis.Options{URL: redistest.WithHost(t, url, proxy.Addr()), Prefix: prefix, OpenFor: 100 * time.Millisecond})
	if c.Healthy() {
		t.Fatal("healthy before Redis is reachable")
	}
	if _, _, err := c.Get(context.Background(), "intro:k"); !errors.Is(err, redis.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	proxy.SetMode(tcpproxy.Forward)
	cachetest.Eventually(t, 5*time.Second, "tier never connected", func() bool {
		return c.Set(context.Background(), "intro:k", []byte("v"), time.Minute) == nil
	})
	cachetest.WantValue(t, c, "intro:k", []byte("v"))
	if !c.Healthy() {
		t.Fatal("not healthy once connected")
	}
}

// TestCallerCancellationDoesNotTrip: callers giving up say nothing about Redis.
func TestCallerCancellationDoesNotTrip(t *testing.T) {
	c := open(t, redis.Options{TripAfter: 2})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 10 {
		if _, _, err := c.Get(ctx, "intro:k"); !errors.Is(err, context.Canceled) || errors.Is(err, redis.ErrUnavailable) {
			t.Fatalf("err = %v, want context.Canceled and not ErrUnavailable", err)
		}
	}
	if !c.Healthy() {
		t.Fatal("breaker opened because callers cancelled")
	}
	cachetest.MustSet(t, c, "intro:k", []byte("v"), time.Minute)
}

func TestPubSub(t *testing.T) {
	c := open(t, redis.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	subscribed := make(chan struct{}, 10)
	got := make(chan string, 10)
	done := make(chan error, 1)
	go func() {
		done <- c.Subscribe(ctx, "events", func() { subscribed <- struct{}{} }, func(p string) { got <- p })
	}()
	select {
	case <-subscribed:
	case <-time.After(5 * time.Second):
		t.Fatal("never subscribed")
	}
	if err := c.Publish(context.Background(), "events", []byte("hello\x00world")); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-got:
		if p != "hello\x00world" {
			t.Fatalf("got %q", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("message not delivered")
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Subscribe returned %v, want context.Canceled", err)
	}
}
