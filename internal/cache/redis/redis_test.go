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
	"github.com/authd/authd/internal/cache/redis"
	"github.com/authd/authd/internal/testenv/metrictest"
	"github.com/authd/authd/internal/testenv/redistest"
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

// TestFaults runs the outage suite against the tier, through Get and Set. On
// top of the suite, every failed Get must return no value, the
// authd_cache_redis_up gauge must agree with Healthy whenever the suite asks,
// and with the breaker open every other call fails too, each one counted.
func TestFaults(t *testing.T) {
	redistest.RunFaults(t, redis.ErrUnavailable, func(t *testing.T, o redistest.Options) redistest.Subject {
		reg := prometheus.NewPedanticRegistry()
		c := open(t, redis.Options{
			URL: o.URL, Prefix: o.Prefix, Timeout: o.Timeout, TripAfter: o.TripAfter, OpenFor: o.OpenFor,
			Registerer: reg,
		})
		return redistest.Subject{
			Write: func(ctx context.Context) error {
				return c.Set(ctx, "intro:k", []byte("v"), time.Minute)
			},
			Read: func(ctx context.Context) error {
				v, ok, err := c.Get(ctx, "intro:k")
				switch {
				case err != nil && (ok || v != nil):
					t.Fatalf("Get = %q, %v, %v; want no value with an error", v, ok, err)
				case err == nil && (!ok || string(v) != "v"):
					return fmt.Errorf("Get = %q, %v; want the value written", v, ok)
				}
				return err
			},
			Healthy: func() bool {
				healthy := c.Healthy()
				if up := metrictest.Value(t, reg, "authd_cache_redis_up"); (up == 1) != healthy {
					t.Fatalf("authd_cache_redis_up = %v while Healthy is %v", up, healthy)
				}
				return healthy
			},
			BreakerOpen: func(t *testing.T) {
				ctx := context.Background()
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
				if up := metrictest.Value(t, reg, "authd_cache_redis_up"); up != 0 {
					t.Fatalf("authd_cache_redis_up = %v, want 0", up)
				}
				if errs := metrictest.Value(t, reg, "authd_cache_errors_total", "tier", "redis"); errs < redistest.OpenCalls {
					t.Fatalf("authd_cache_errors_total = %v, want >= %d", errs, redistest.OpenCalls)
				}
			},
		}
	})
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
