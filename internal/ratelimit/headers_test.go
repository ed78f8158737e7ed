package ratelimit_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/ratelimit"
)

func TestHeaders(t *testing.T) {
	tests := []struct {
		name           string
		limit          ratelimit.Limit
		d              ratelimit.Decision
		wantPolicy     string
		wantRateLimit  string
		wantRetryAfter string
	}{
		{
			name:          "allowed",
			limit:         ratelimit.PerMinute(100, 100),
			d:             ratelimit.Decision{Allowed: true, Remaining: 42, ResetAfter: 11500 * time.Millisecond},
			wantPolicy:    `"default";q=100;w=60`,
			wantRateLimit: `"default";r=42;t=12`,
		},
		{
			name:           "denied: Retry-After rounds up",
			limit:          ratelimit.PerSecond(10, 20),
			d:              ratelimit.Decision{Remaining: 0, RetryAfter: 100 * time.Millisecond, ResetAfter: 2 * time.Second},
			wantPolicy:     `"default";q=20;w=2`,
			wantRateLimit:  `"default";r=0;t=2`,
			wantRetryAfter: "1",
		},
		{
			name:           "denied for a while",
			limit:          ratelimit.PerHour(10, 10),
			d:              ratelimit.Decision{RetryAfter: 6 * time.Minute, ResetAfter: time.Hour},
			wantPolicy:     `"default";q=10;w=3600`,
			wantRateLimit:  `"default";r=0;t=3600`,
			wantRetryAfter: "360",
		},
		{
			// No wait helps a cost above the burst: no Retry-After.
			name:          "never",
			limit:         ratelimit.PerSecond(1, 5),
			d:             ratelimit.Decision{Remaining: 5, RetryAfter: -1},
			wantPolicy:    `"default";q=5;w=5`,
			wantRateLimit: `"default";r=5;t=0`,
		},
		{
			// A window of a fraction of a second is advertised as 1.
			name:          "sub-second window",
			limit:         ratelimit.PerSecond(1000, 10),
			d:             ratelimit.Decision{Allowed: true, Remaining: 9, ResetAfter: time.Millisecond},
			wantPolicy:    `"default";q=10;w=1`,
			wantRateLimit: `"default";r=9;t=1`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			h.Set("Retry-After", "stale") // replaced when denied, kept otherwise
			tc.d.Headers(tc.limit, h)
			if got := h.Get("RateLimit-Policy"); got != tc.wantPolicy {
				t.Errorf("RateLimit-Policy = %s, want %s", got, tc.wantPolicy)
			}
			if got := h.Get("RateLimit"); got != tc.wantRateLimit {
				t.Errorf("RateLimit = %s, want %s", got, tc.wantRateLimit)
			}
			want := tc.wantRetryAfter
			if want == "" {
				want = "stale"
			}
			if got := h.Get("Retry-After"); got != want {
				t.Errorf("Retry-After = %q, want %q", got, want)
			}
		})
	}
}

func TestHeadersCanAdd(t *testing.T) {
	h := http.Header{}
	ratelimit.Decision{RetryAfter: time.Second}.Headers(ratelimit.PerSecond(1, 1), h)
	// Adding to one field leaves the others alone (their values share memory).
	h.Add("RateLimit-Policy", `"other";q=1;w=1`)
	h.Add("RateLimit", `"other";r=0;t=1`)
	if got := h.Values("RateLimit"); len(got) != 2 || got[0] != `"default";r=0;t=0` {
		t.Fatalf("RateLimit = %q", got)
	}
	if got := h.Values("Retry-After"); len(got) != 1 || got[0] != "1" {
		t.Fatalf("Retry-After = %q", got)
	}
	// What Headers stored is what net/http writes.
	var b strings.Builder
	if err := h.Write(&b); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"Ratelimit-Policy: \"default\";q=1;w=1\r\n", "Retry-After: 1\r\n"} {
		if !strings.Contains(b.String(), line) {
			t.Fatalf("written header lacks %q:\n%s", line, b.String())
		}
	}
}

func BenchmarkHeaders(b *testing.B) {
	limit := ratelimit.PerMinute(100, 100)
	d := ratelimit.Decision{Remaining: 0, RetryAfter: 600 * time.Millisecond, ResetAfter: time.Minute}
	h := http.Header{}
	b.ReportAllocs()
	for b.Loop() {
		d.Headers(limit, h)
	}
}
