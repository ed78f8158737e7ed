package outbound

import (
	"net/http"
	"strings"
	"time"
)

// maxDeltaSeconds is where RFC 9111 §1.2.2 caps delta-seconds: a cache
// that cannot represent a larger value uses 2^31.
const maxDeltaSeconds = 1 << 31

// cacheControl holds the response directives of RFC 9111 §5.2.2 that a
// private cache acts on. s-maxage, public and private concern shared
// caches; authd's cache is one client's (RFC 9111 §1: a private cache).
type cacheControl struct {
	noStore        bool          // §5.2.2.5: not stored at all
	noCache        bool          // §5.2.2.4: revalidate before each use
	mustRevalidate bool          // §5.2.2.2: never served stale
	hasMaxAge      bool          // §5.2.2.1
	maxAge         time.Duration // 0 when max-age was invalid: stale at once
}

// parseCacheControl reads the Cache-Control field lines of a response. It
// takes untrusted input and never fails: an unknown directive is ignored
// (§5.2.3), an invalid or repeated max-age makes the response stale
// (§4.2.1 allows treating conflicting directives as stale), a qualified
// no-cache="field" is taken as no-cache (the safe reading).
func parseCacheControl(lines []string) cacheControl {
	var cc cacheControl
	for _, line := range lines {
		for s := line; s != ""; {
			var name, value string
			name, value, s = nextDirective(s)
			switch strings.ToLower(name) {
			case "no-store":
				cc.noStore = true
			case "no-cache":
				cc.noCache = true
			case "must-revalidate", "proxy-revalidate":
				cc.mustRevalidate = true
			case "max-age":
				secs, ok := deltaSeconds(value)
				if cc.hasMaxAge || !ok {
					secs = 0
				}
				cc.hasMaxAge = true
				cc.maxAge = time.Duration(secs) * time.Second
			}
		}
	}
	return cc
}

// nextDirective splits the first directive off a Cache-Control list
// (RFC 9111 §5.2: token [ "=" ( token / quoted-string ) ], comma-separated)
// and returns its name, its value (unquoted) and the rest.
func nextDirective(s string) (name, value, rest string) {
	s = strings.TrimLeft(s, " \t,")
	i := strings.IndexAny(s, "=, \t")
	if i < 0 {
		return s, "", ""
	}
	name, s = s[:i], strings.TrimLeft(s[i:], " \t")
	if !strings.HasPrefix(s, "=") {
		return name, "", skipToComma(s)
	}
	s = strings.TrimLeft(s[1:], " \t")
	if strings.HasPrefix(s, `"`) {
		// quoted-string (RFC 9110 §5.6.4), with quoted-pairs.
		var b strings.Builder
		for j := 1; j < len(s); j++ {
			switch c := s[j]; {
			case c == '\\' && j+1 < len(s):
				j++
				b.WriteByte(s[j])
			case c == '"':
				return name, b.String(), skipToComma(s[j+1:])
			default:
				b.WriteByte(c)
			}
		}
		return name, b.String(), "" // unterminated: the rest was its value
	}
	if j := strings.IndexAny(s, ", \t"); j >= 0 {
		return name, s[:j], skipToComma(s[j:])
	}
	return name, s, ""
}

func skipToComma(s string) string {
	if i := strings.IndexByte(s, ','); i >= 0 {
		return s[i+1:]
	}
	return ""
}

// deltaSeconds parses RFC 9111 §1.2.2 delta-seconds: digits only, capped
// at 2^31.
func deltaSeconds(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n < maxDeltaSeconds {
			n = n*10 + int64(c-'0')
		}
	}
	return min(n, maxDeltaSeconds), true
}

// freshnessLifetime is how long a response received at now stays fresh
// (RFC 9111 §4.2.1), less the age it already has (§4.2.3, from the Age
// field; the Date-based apparent age is left out, as it depends on the two
// clocks agreeing). It can be zero or negative; the caller clamps it.
func freshnessLifetime(h http.Header, cc cacheControl, now time.Time, heuristic time.Duration) time.Duration {
	var life time.Duration
	switch {
	case cc.noCache:
		life = 0
	case cc.hasMaxAge:
		life = cc.maxAge
	case len(h.Values("Expires")) > 0:
		// §5.3: an invalid Expires, or several, mean already expired.
		exp, err := http.ParseTime(h.Get("Expires"))
		if err != nil || len(h.Values("Expires")) > 1 {
			return 0
		}
		date, err := http.ParseTime(h.Get("Date"))
		if err != nil {
			date = now
		}
		life = exp.Sub(date)
	default:
		// §4.2.2: a 200 without explicit freshness may be given a heuristic
		// lifetime; ours is a setting rather than a fraction of the time
		// since Last-Modified.
		life = heuristic
	}
	if ages := h.Values("Age"); len(ages) > 0 {
		if age, ok := deltaSeconds(strings.TrimSpace(ages[0])); ok {
			life -= time.Duration(age) * time.Second
		}
	}
	return life
}
