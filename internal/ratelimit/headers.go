package ratelimit

import (
	"net/http"
	"strconv"
	"time"
)

// PolicyName names the one quota policy that Headers advertises.
const PolicyName = "default"

// Headers sets the RateLimit-Policy and RateLimit fields of the IETF draft
// "RateLimit header fields for HTTP" (draft-ietf-httpapi-ratelimit-headers-09
// and later) for d under limit, and Retry-After (RFC 9110 §10.2.3, whole
// seconds rounded up) when d is denied and a retry could succeed:
//
//	RateLimit-Policy: "default";q=<Burst>;w=<Window in seconds>
//	RateLimit: "default";r=<Remaining>;t=<ResetAfter in seconds>
//
// A GCRA bucket of Burst units that refills over Window is the draft's quota
// q per window w; t is when the whole quota is back, while Retry-After is
// when the next request may pass. Durations are rounded up, so a client that
// waits what they say is never early.
//
// When several limits apply to one request, call Headers for the decision the
// client should see (the denied one, or else the one with the least
// Remaining): each call replaces the fields.
func (d Decision) Headers(limit Limit, h http.Header) {
	// The three values are written into one string, and the header slices
	// share one backing array: two allocations for a response that every
	// limited request pays (h.Set would take seven).
	var buf [96]byte
	b := append(buf[:0], `"`+PolicyName+`";q=`...)
	b = strconv.AppendInt(b, int64(limit.Burst), 10)
	b = append(b, ";w="...)
	b = strconv.AppendInt(b, ceilSeconds(limit.Window()), 10)
	policyEnd := len(b)
	b = append(b, `"`+PolicyName+`";r=`...)
	b = strconv.AppendInt(b, int64(max(d.Remaining, 0)), 10)
	b = append(b, ";t="...)
	b = strconv.AppendInt(b, ceilSeconds(d.ResetAfter), 10)
	rateEnd := len(b)
	retry := !d.Allowed && d.RetryAfter > 0
	if retry {
		b = strconv.AppendInt(b, ceilSeconds(d.RetryAfter), 10)
	}
	s := string(b)
	vs := make([]string, 3)
	vs[0], vs[1], vs[2] = s[:policyEnd], s[policyEnd:rateEnd], s[rateEnd:]
	// Full slice expressions: a later Add to one field must not overwrite
	// the next field's value in the shared array.
	h[policyField] = vs[0:1:1]
	h[rateLimitField] = vs[1:2:2]
	if retry {
		h[retryAfterField] = vs[2:3:3]
	}
}

// The fields' canonical forms (textproto.CanonicalMIMEHeaderKey), so that
// Headers can store them without canonicalising on every call.
const (
	policyField     = "Ratelimit-Policy"
	rateLimitField  = "Ratelimit"
	retryAfterField = "Retry-After"
)

// ceilSeconds rounds d up to whole seconds; negative durations are 0.
func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	s := int64(d / time.Second)
	if d%time.Second != 0 {
		s++
	}
	return s
}
