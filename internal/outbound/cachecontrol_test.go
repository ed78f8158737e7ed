package outbound

import (
	"net/http"
	"testing"
	"time"
)

func TestParseCacheControl(t *testing.T) {
	tests := []struct {
		lines []string
		want  cacheControl
	}{
		{nil, cacheControl{}},
		{[]string{"max-age=60"}, cacheControl{hasMaxAge: true, maxAge: time.Minute}},
		{[]string{"MAX-AGE=60"}, cacheControl{hasMaxAge: true, maxAge: time.Minute}},
		{[]string{`max-age="60"`}, cacheControl{hasMaxAge: true, maxAge: time.Minute}},
		{[]string{"public, max-age=60, must-revalidate"}, cacheControl{hasMaxAge: true, maxAge: time.Minute, mustRevalidate: true}},
		{[]string{"max-age=60", "no-store"}, cacheControl{hasMaxAge: true, maxAge: time.Minute, noStore: true}},
		{[]string{"  ,, no-cache ,"}, cacheControl{noCache: true}},
		{[]string{`no-cache="Set-Cookie, X-Foo", max-age=5`}, cacheControl{noCache: true, hasMaxAge: true, maxAge: 5 * time.Second}},
		{[]string{`private="a\"b,c", no-store`}, cacheControl{noStore: true}},
		{[]string{"proxy-revalidate"}, cacheControl{mustRevalidate: true}},
		{[]string{"s-maxage=600"}, cacheControl{}},                            // shared caches only
		{[]string{"max-age=60, max-age=3600"}, cacheControl{hasMaxAge: true}}, // conflicting: stale (§4.2.1)
		{[]string{"max-age=-1"}, cacheControl{hasMaxAge: true}},
		{[]string{"max-age=1.5"}, cacheControl{hasMaxAge: true}},
		{[]string{"max-age="}, cacheControl{hasMaxAge: true}},
		{[]string{"max-age"}, cacheControl{hasMaxAge: true}},
		{[]string{"max-age=99999999999999999999999"}, cacheControl{hasMaxAge: true, maxAge: maxDeltaSeconds * time.Second}},
		{[]string{"no-storex, xno-cache"}, cacheControl{}},
		{[]string{`max-age="60`}, cacheControl{hasMaxAge: true, maxAge: time.Minute}}, // unterminated quote
		{[]string{"max-age = 60"}, cacheControl{hasMaxAge: true, maxAge: time.Minute}},
	}
	for _, tc := range tests {
		if got := parseCacheControl(tc.lines); got != tc.want {
			t.Errorf("parseCacheControl(%q) = %+v, want %+v", tc.lines, got, tc.want)
		}
	}
}

func TestFreshnessLifetime(t *testing.T) {
	now := start
	date := now.Add(-time.Hour).Format(http.TimeFormat)
	tests := []struct {
		name   string
		header http.Header
		want   time.Duration
	}{
		{"heuristic", http.Header{}, DefaultTTL},
		{"max-age", http.Header{"Cache-Control": {"max-age=90"}}, 90 * time.Second},
		{"Expires - Date", http.Header{"Date": {date}, "Expires": {now.Add(-30 * time.Minute).Format(http.TimeFormat)}}, 30 * time.Minute},
		{"Expires without Date", http.Header{"Expires": {now.Add(time.Minute).Format(http.TimeFormat)}}, time.Minute},
		{"Expires in the past", http.Header{"Expires": {now.Add(-time.Minute).Format(http.TimeFormat)}}, -time.Minute},
		{"two Expires", http.Header{"Expires": {now.Add(time.Hour).Format(http.TimeFormat), now.Add(time.Hour).Format(http.TimeFormat)}}, 0},
		{"invalid Expires", http.Header{"Expires": {"-1"}}, 0},
		{"no-cache wins", http.Header{"Cache-Control": {"max-age=90, no-cache"}}, 0},
		{"Age", http.Header{"Cache-Control": {"max-age=90"}, "Age": {"30"}}, 60 * time.Second},
		{"invalid Age ignored", http.Header{"Cache-Control": {"max-age=90"}, "Age": {"soon"}}, 90 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cc := parseCacheControl(tc.header.Values("Cache-Control"))
			if got := freshnessLifetime(tc.header, cc, now, DefaultTTL); got != tc.want {
				t.Fatalf("lifetime = %v, want %v", got, tc.want)
			}
		})
	}
}

func FuzzParseCacheControl(f *testing.F) {
	for _, s := range []string{
		"max-age=60", `no-cache="a, b", max-age=5`, "public,,,", `x="\"`, "max-age=99999999999999999999",
		"no-store, must-revalidate", "=,=", `"`, "max-age=\t60",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cc := parseCacheControl([]string{s})
		if cc.maxAge < 0 || cc.maxAge > maxDeltaSeconds*time.Second {
			t.Fatalf("max-age %v out of range", cc.maxAge)
		}
		if !cc.hasMaxAge && cc.maxAge != 0 {
			t.Fatalf("max-age %v without the directive", cc.maxAge)
		}
		h := http.Header{"Cache-Control": {s}, "Expires": {s}, "Age": {s}}
		_ = freshnessLifetime(h, cc, start, DefaultTTL)
	})
}
