package redis

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"
)

// Publish sends payload on the channel (the Prefix is put before its name),
// under the deadline and the breaker like any call. Errors wrap ErrUnavailable.
func (c *Cache) Publish(ctx context.Context, channel string, payload []byte) error {
	ch := c.prefix + channel
	return c.do(ctx, "publish", func(ctx context.Context, cl rueidis.Client) error {
		return cl.Do(ctx, cl.B().Publish().Channel(ch).Message(rueidis.BinaryString(payload)).Build()).Error()
	})
}

// Subscribe listens on the channel (the Prefix is put before its name) until
// ctx ends, and returns ctx's error. It never gives up: when the connection
// drops or Redis is down it subscribes again, with backoff.
//
// onSubscribed runs each time Redis confirms a subscription, the first one and
// every one after a reconnection, before any message that subscription
// delivers. Messages published while no subscription was active are lost, and
// onSubscribed is where the caller accounts for that. It runs on rueidis's
// connection goroutine: it must be quick and must not call Redis.
//
// onMessage runs for each message, one at a time, on Subscribe's goroutine.
func (c *Cache) Subscribe(ctx context.Context, channel string, onSubscribed func(), onMessage func(payload string)) error {
	ch := c.prefix + channel
	const minBackoff, maxBackoff = 50 * time.Millisecond, 2 * time.Second
	backoff := minBackoff
	for {
		var subscribed atomic.Bool // set on rueidis's goroutine
		cl, err := c.conn.Client(ctx)
		if err == nil {
			hctx := rueidis.WithOnSubscriptionHook(ctx, func(s rueidis.PubSubSubscription) {
				if s.Kind == "subscribe" && s.Channel == ch {
					subscribed.Store(true)
					onSubscribed()
				}
			})
			// With retries on (rueidis's default) Receive resubscribes on
			// a new connection by itself; the hook still fires each time.
			_ = cl.Receive(hctx, cl.B().Subscribe().Channel(ch).Build(), func(m rueidis.PubSubMessage) {
				onMessage(m.Message)
			})
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if subscribed.Load() {
			backoff = minBackoff
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		backoff = min(2*backoff, maxBackoff)
	}
}
