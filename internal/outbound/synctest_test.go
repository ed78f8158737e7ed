package outbound

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// These tests run in a synctest bubble over in-memory pipes, so that the
// deadline is the real timer (on the bubble's clock) and synctest.Wait
// tells when every caller is blocked.

func TestTimeout(t *testing.T) {
	tests := []struct {
		name    string
		handler func(release <-chan struct{}) http.HandlerFunc
	}{
		{"no response", func(release <-chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-release:
				}
			}
		}},
		{"body that never ends", func(release <-chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", jsonType)
				_, _ = w.Write([]byte(`{"keys":[`))
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
				case <-release:
				}
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				release := make(chan struct{})
				p, stop := servePipe(tc.handler(release))
				defer stop()
				defer close(release)
				f := newFetcher(t, Options{AllowLoopback: true, dial: p.dial})
				defer f.Close()
				begin := time.Now()
				_, err := f.Get(t.Context(), "http://127.0.0.1/slow", jsonType)
				if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("Get = %v, want ErrUnavailable after the deadline", err)
				}
				if took := time.Since(begin); took != DefaultTimeout {
					t.Fatalf("Get gave up after %v, want %v", took, DefaultTimeout)
				}
			})
		})
	}
}

// TestSingleflight: concurrent Gets of one URL make one request, and a
// caller who gives up does not fail the others.
func TestSingleflight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var hits atomic.Int64
		release := make(chan struct{})
		p, stop := servePipe(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			<-release
			jsonHandler(`{"one":true}`)(w, r)
		}))
		defer stop()
		f := newFetcher(t, Options{AllowLoopback: true, dial: p.dial})
		defer f.Close()
		releaseAll := sync.OnceFunc(func() { close(release) })
		defer releaseAll() // also when the test fails before it does

		const n = 8
		docs := make([]*Document, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { docs[i], errs[i] = f.Get(t.Context(), "http://127.0.0.1/jwks", jsonType) })
		}
		impatient, giveUp := context.WithCancel(t.Context())
		var impatientErr error
		wg.Go(func() { _, impatientErr = f.Get(impatient, "http://127.0.0.1/jwks", jsonType) })

		synctest.Wait() // every caller is blocked: on the one request, or each on its own
		if got := hits.Load(); got != 1 {
			t.Fatalf("%d concurrent Gets made %d requests, want 1", n+1, got)
		}
		giveUp()
		synctest.Wait()
		releaseAll()
		wg.Wait()

		if !errors.Is(impatientErr, context.Canceled) {
			t.Fatalf("the caller who gave up got %v", impatientErr)
		}
		for i := range n {
			if errs[i] != nil || docs[i] != docs[0] || string(docs[i].Body) != `{"one":true}` {
				t.Fatalf("caller %d: %v, %v", i, docs[i], errs[i])
			}
		}
		if got := f.fetches(t, resultOK); got != 1 {
			t.Fatalf("ok fetches = %v, want 1", got)
		}
	})
}

// TestMaxInFlight: fetches of different URLs beyond MaxInFlight wait for a
// slot.
func TestMaxInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var inFlight, most atomic.Int64
		release := make(chan struct{})
		p, stop := servePipe(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := inFlight.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			<-release
			inFlight.Add(-1)
			jsonHandler(`{}`)(w, r)
		}))
		defer stop()
		f := newFetcher(t, Options{AllowLoopback: true, dial: p.dial, MaxInFlight: 2})
		defer f.Close()
		releaseAll := sync.OnceFunc(func() { close(release) })
		defer releaseAll()
		var wg sync.WaitGroup
		for _, path := range []string{"/a", "/b", "/c", "/d"} {
			wg.Go(func() {
				if _, err := f.Get(t.Context(), "http://127.0.0.1"+path, jsonType); err != nil {
					t.Error(err)
				}
			})
		}
		synctest.Wait()
		if got := inFlight.Load(); got != 2 {
			t.Fatalf("%d requests in flight, want 2", got)
		}
		releaseAll()
		wg.Wait()
		if got := most.Load(); got != 2 {
			t.Fatalf("at most %d requests were in flight, want 2", got)
		}
	})
}
