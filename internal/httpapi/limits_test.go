package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/defense"
	"github.com/authd/authd/internal/httpapi"
	"github.com/authd/authd/internal/ratelimit"
	rlmemory "github.com/authd/authd/internal/ratelimit/memory"
)

// withLimits wires the defences over an in-process limiter on the harness clock.
func withLimits(rp defense.RequestPolicy, lp defense.LoginPolicy) func(*harnessConfig) {
	return func(c *harnessConfig) {
		lim := rlmemory.New(rlmemory.Options{Now: c.now})
		req := defense.NewRequests(lim, rp, nil, nil)
		c.deps.Limits = req
		c.api.Limits = req
		c.acct.Guard = defense.NewLoginGuard(lim, lp, []byte("0123456789abcdef0123456789abcdef"), nil, nil)
	}
}

func retryAfter(t *testing.T, h http.Header) int {
	t.Helper()
	n, err := strconv.Atoi(h.Get("Retry-After"))
	if err != nil || n < 1 {
		t.Fatalf("Retry-After = %q", h.Get("Retry-After"))
	}
	return n
}

func TestPerIPLimit(t *testing.T) {
	h := newHarness(t, withLimits(defense.RequestPolicy{PerIP: ratelimit.PerSecond(3, 3)}, defense.DefaultLoginPolicy()))
	for i := range 3 {
		if w := h.do(http.MethodGet, httpapi.PathJWKS, "", ""); w.Code != 200 {
			t.Fatalf("request %d: %d", i, w.Code)
		}
	}
	w := h.do(http.MethodGet, httpapi.PathJWKS, "", "")
	if w.Code != 429 || decodeJSON(t, w.Body.Bytes())["error"] != "temporarily_unavailable" {
		t.Fatalf("4th request: %d %s", w.Code, w.Body)
	}
	retryAfter(t, w.Header())
	// Probes are never limited.
	if w := h.do(http.MethodGet, "/healthz", "", ""); w.Code != 200 {
		t.Fatalf("healthz limited: %d", w.Code)
	}
	h.clock.Advance(time.Second)
	if w := h.do(http.MethodGet, httpapi.PathJWKS, "", ""); w.Code != 200 {
		t.Fatalf("after refill: %d", w.Code)
	}
}

func TestPerClientLimit(t *testing.T) {
	h := newHarness(t, withLimits(defense.RequestPolicy{PerClient: ratelimit.PerSecond(2, 2)}, defense.DefaultLoginPolicy()))
	h.addClient("svc", "svc-secret", nil)
	h.addClient("other", "other-secret", nil)
	for range 2 {
		h.token("svc", "svc-secret", nil)
	}
	w := h.postForm(httpapi.PathToken, url.Values{"grant_type": {"client_credentials"}}, withBasic("svc", "svc-secret"))
	if w.Code != 429 {
		t.Fatalf("3rd token in a second: %d %s", w.Code, w.Body)
	}
	retryAfter(t, w.Header())
	h.token("other", "other-secret", nil) // another client is unaffected
}

func TestEnumerationThrottled(t *testing.T) {
	h := newHarness(t, withLimits(defense.RequestPolicy{InactivePerCaller: ratelimit.PerMinute(50, 50)}, defense.DefaultLoginPolicy()))
	h.addClient("rs", "rs-secret", nil)
	good := h.token("rs", "rs-secret", nil)
	junk := make([]string, 100)
	for i := range junk {
		junk[i] = strings.Repeat(string(rune('A'+i%26)), 48)
	}
	b, _ := json.Marshal(map[string]any{"tokens": junk})
	if w := h.do(http.MethodPost, httpapi.PathIntrospectBatch, "application/json", string(b), withBasic("rs", "rs-secret")); w.Code != 200 {
		t.Fatalf("first junk batch: %d", w.Code)
	}
	// The caller has spent its inactive budget: even a good token waits now.
	w := h.postForm(httpapi.PathIntrospect, url.Values{"token": {good}}, withBasic("rs", "rs-secret"))
	if w.Code != 429 {
		t.Fatalf("after 100 junk answers: %d %s", w.Code, w.Body)
	}
	retryAfter(t, w.Header())
	h.clock.Advance(2 * time.Minute)
	if got := h.introspect("rs", "rs-secret", good); got["active"] != true {
		t.Fatalf("after the budget refilled: %v", got)
	}
}

func TestPasswordGrantLockout(t *testing.T) {
	h, _ := userSetup(t, withLimits(defense.RequestPolicy{}, defense.LoginPolicy{
		AttemptsPerIP:      ratelimit.PerMinute(1000, 1000),
		FailuresPerIP:      ratelimit.PerMinute(1000, 1000),
		FailuresPerAccount: ratelimit.Limit{Rate: 1.0 / 300, Burst: 3},
	}))
	pw := func(p string) (int, map[string]any, http.Header) {
		w := h.postForm(httpapi.PathToken, url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {p}}, withBasic("web", "web-secret"))
		return w.Code, decodeJSON(t, w.Body.Bytes()), w.Header()
	}
	for i := range 3 {
		if code, body, _ := pw("wrong guess"); code != 400 || body["error"] != "invalid_grant" {
			t.Fatalf("guess %d: %d %v", i, code, body)
		}
	}
	// Locked: even the right password waits, and costs no hashing.
	code, body, hdr := pw("correct horse battery staple")
	if code != 429 {
		t.Fatalf("locked account: %d %v", code, body)
	}
	if n := retryAfter(t, hdr); n > 300 {
		t.Fatalf("Retry-After %d", n)
	}
	h.clock.Advance(301 * time.Second)
	if code, body, _ := pw("correct horse battery staple"); code != 200 {
		t.Fatalf("after the wait: %d %v", code, body)
	}
}
