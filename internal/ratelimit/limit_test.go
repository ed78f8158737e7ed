package ratelimit_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/ratelimit"
)

func TestLimitHelpers(t *testing.T) {
	tests := []struct {
		name         string
		limit        ratelimit.Limit
		wantInterval time.Duration
		wantWindow   time.Duration
	}{
		{"PerSecond", ratelimit.PerSecond(10, 20), 100 * time.Millisecond, 2 * time.Second},
		{"PerMinute", ratelimit.PerMinute(100, 100), 600 * time.Millisecond, time.Minute},
		{"PerHour", ratelimit.PerHour(10, 10), 6 * time.Minute, time.Hour},
		// 1/3 s is not a whole number of µs: rounded to the nearest.
		{"rounded", ratelimit.PerSecond(3, 3), 333333 * time.Microsecond, 999999 * time.Microsecond},
		{"MaxRate", ratelimit.Limit{Rate: ratelimit.MaxRate, Burst: 1}, time.Microsecond, time.Microsecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.limit.Validate(); err != nil {
				t.Fatal(err)
			}
			if got := tc.limit.Interval(); got != tc.wantInterval {
				t.Errorf("Interval = %v, want %v", got, tc.wantInterval)
			}
			if got := tc.limit.Window(); got != tc.wantWindow {
				t.Errorf("Window = %v, want %v", got, tc.wantWindow)
			}
		})
	}
}

func TestCheckArgs(t *testing.T) {
	ok := ratelimit.PerSecond(1, 1)
	tests := []struct {
		name    string
		key     string
		limit   ratelimit.Limit
		cost    int
		wantErr bool
	}{
		{"valid", "ip:192.0.2.1", ok, 1, false},
		{"cost 0", "k", ok, 0, false},
		{"cost above burst is a denial, not an error", "k", ok, 1 << 40, false},
		{"longest key", strings.Repeat("k", ratelimit.MaxKeyLen), ok, 1, false},
		{"longest window", "k", ratelimit.Limit{Rate: 1, Burst: int(ratelimit.MaxWindow / time.Second)}, 1, false},
		{"empty key", "", ok, 1, true},
		{"key too long", strings.Repeat("k", ratelimit.MaxKeyLen+1), ok, 1, true},
		{"negative cost", "k", ok, -1, true},
		{"zero limit", "k", ratelimit.Limit{}, 1, true},
		{"NaN rate", "k", ratelimit.Limit{Rate: math.NaN(), Burst: 1}, 1, true},
		{"infinite rate", "k", ratelimit.Limit{Rate: math.Inf(1), Burst: 1}, 1, true},
		{"rate above MaxRate", "k", ratelimit.Limit{Rate: ratelimit.MaxRate * 1.01, Burst: 1}, 1, true},
		{"negative burst", "k", ratelimit.Limit{Rate: 1, Burst: -1}, 1, true},
		{"window too long", "k", ratelimit.Limit{Rate: 1, Burst: int(ratelimit.MaxWindow/time.Second) + 1}, 1, true},
		{"tiny rate, huge burst", "k", ratelimit.Limit{Rate: math.SmallestNonzeroFloat64, Burst: math.MaxInt}, 1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ratelimit.CheckArgs(tc.key, tc.limit, tc.cost)
			if (err != nil) != tc.wantErr || (err != nil && !errors.Is(err, ratelimit.ErrInvalid)) {
				t.Fatalf("CheckArgs = %v; want error %v (wrapping ErrInvalid)", err, tc.wantErr)
			}
		})
	}
}
