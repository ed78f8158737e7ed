package gcfloor

import (
	"context"
	"runtime/debug"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	const mb = 1 << 20
	for _, tc := range []struct {
		live, floor uint64
		want        int
	}{
		{3 * mb, 0, 100},         // no floor: the runtime's default
		{3 * mb, 32 * mb, 966},   // goal 3 × (1 + 9.66) ≈ 32 MB
		{16 * mb, 32 * mb, 100},  // the default goal (32 MB) meets the floor
		{500 * mb, 32 * mb, 100}, // a big cache: as without a floor
		{10 * mb, 32 * mb, 220},  // 10 × 3.2 = 32
		{1, 32 * mb, MaxPercent}, // capped
		{0, 32 * mb, MaxPercent}, // before the first collection
		{31 * mb, 32 * mb, 100},  // never below the default
	} {
		if got := Percent(tc.live, tc.floor); got != tc.want {
			t.Errorf("Percent(%d MB, %d MB) = %d, want %d", tc.live/mb, tc.floor/mb, got, tc.want)
		}
	}
}

func gogc() int {
	p := debug.SetGCPercent(-1) // read it (turning collection off a moment)
	debug.SetGCPercent(p)
	return p
}

// Tune raises GOGC for this test binary's small heap; Run puts back what it
// found when it stops.
func TestTuneAndRun(t *testing.T) {
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	const huge = 1 << 40 // a floor no test heap reaches
	if got := Tune(huge, 100); got != MaxPercent || gogc() != MaxPercent {
		t.Fatalf("Tune = %d, GOGC %d; want %d", got, gogc(), MaxPercent)
	}
	if got := Tune(0, MaxPercent); got != 100 || gogc() != 100 {
		t.Fatalf("Tune without a floor = %d, GOGC %d; want 100", got, gogc())
	}
	debug.SetGCPercent(150)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Run tunes once, sees the end and restores
	Run(ctx, huge, time.Hour)
	if p := gogc(); p != 150 {
		t.Errorf("after Run: GOGC %d, want the 150 it found", p)
	}
}
