package clocktest

import (
	"sync"
	"time"
)

// Clock is a fake clock that only moves when told to. Its methods are safe for
// concurrent use. The zero value is not usable; build one with New.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a clock that reads start until it is advanced.
func New(start time.Time) *Clock { return &Clock{t: start} }

// Now returns the clock's current time. Pass the method value (clk.Now) where
// a component takes a `func() time.Time`.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock by d; a negative d moves it back, which lets a test
// undo a step it took for one case.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
