package keys_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/internal/keys"
	"github.com/authd/authd/internal/testenv/clocktest"
)

// bus is an in-process keys.Notifier shared by several managers.
type bus struct {
	mu   sync.Mutex
	subs []chan string
	up   chan struct{} // one per subscription
}

func (b *bus) Publish(_ context.Context, _ string, payload []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.subs {
		c <- string(payload)
	}
	return nil
}

func (b *bus) Subscribe(ctx context.Context, _ string, onSubscribed func(), onMessage func(string)) error {
	c := make(chan string, 8)
	b.mu.Lock()
	b.subs = append(b.subs, c)
	b.mu.Unlock()
	onSubscribed()
	b.up <- struct{}{}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case m := <-c:
			onMessage(m)
			b.up <- struct{}{}
		}
	}
}

// A rotation on one replica reaches another through the Notifier, without
// waiting for its reload interval.
func TestWatchFollowsRotations(t *testing.T) {
	db := openDB(t)
	clk := clocktest.New(time.Now())
	n := &bus{up: make(chan struct{}, 8)}
	sealer, _ := keys.NewSealer(bytes.Repeat([]byte{1}, 32))
	newM := func() *keys.Manager {
		m, err := keys.NewManager(db, sealer, keys.Options{Retain: time.Hour, Now: clk.Now, Notifier: n,
			Purposes: []keys.Purpose{{Name: keys.PurposeAccess, Algorithm: keys.ES256}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Load(context.Background()); err != nil {
			t.Fatal(err)
		}
		return m
	}
	a, b := newM(), newM()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.Watch(ctx); close(done) }()
	<-n.up // subscribed
	clk.Advance(time.Second)
	k, err := a.RotateNow(context.Background(), keys.PurposeAccess)
	if err != nil {
		t.Fatal(err)
	}
	<-n.up // the notice was handled
	if got := b.CurrentKeyID(keys.PurposeAccess); got != k.ID {
		t.Fatalf("replica b signs with %s after a's rotation to %s", got, k.ID)
	}
	cancel()
	<-done
}
