package tiered

import (
	"context"
	"testing"
	"time"
)

// WaitHealed waits until L2 is trusted again.
func (c *Cache) WaitHealed(t testing.TB, within time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for !c.trusted.Load() {
		select {
		case <-c.healed:
		case <-ctx.Done():
			t.Fatalf("L2 not trusted again within %v", within)
		}
	}
}
