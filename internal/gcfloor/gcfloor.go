// Package gcfloor keeps the garbage collector's heap goal from falling below
// a floor.
//
// Go starts a collection whenever the heap has grown by GOGC percent (100)
// over what the last one left live. authd's live heap is a few megabytes
// (the caches aside), so under load it collected every few milliseconds: a
// sixth of one core went to the collector on the introspection paths, and
// the goroutines it made assist waited. A floor (AUTHD_GC_HEAP_FLOOR_MB)
// raises GOGC while the live heap is small, so the goal is about the floor,
// and leaves it at 100 once the live heap is big enough that the usual goal
// is above the floor: a large cache costs no more memory than before.
//
// Idle memory is not raised: nothing is allocated when nothing happens, and
// the runtime still collects at least every two minutes. An explicit GOGC
// in the environment is the operator's and is left alone (see serve).
package gcfloor

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// MaxPercent caps the GOGC the floor sets: with a tiny live heap the
// formula would ask for an unbounded one.
const MaxPercent = 5000

// Percent is the GOGC that makes the heap goal (live × (1 + GOGC/100)) at
// least floor, never below the runtime's default of 100.
func Percent(live, floor uint64) int {
	const def = 100
	if floor == 0 {
		return def
	}
	if live == 0 {
		live = 1
	}
	if live*(1+def/100) >= floor {
		return def
	}
	p := (floor - live) * 100 / live
	return int(min(max(p, def), MaxPercent))
}

// Tune sets GOGC to Percent for the live heap now, unless it is within a
// tenth of current (small moves are noise), and returns the GOGC in force.
func Tune(floor uint64, current int) int {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return current
	}
	p := Percent(sample[0].Value.Uint64(), floor)
	if p*10 < current*9 || p*10 > current*11 {
		debug.SetGCPercent(p)
		return p
	}
	return current
}

// Run tunes every interval until ctx ends, then restores the GOGC it found.
func Run(ctx context.Context, floor uint64, interval time.Duration) {
	start := debug.SetGCPercent(100)
	debug.SetGCPercent(start)
	current := Tune(floor, start)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			debug.SetGCPercent(start)
			return
		case <-tick.C:
			current = Tune(floor, current)
		}
	}
}
