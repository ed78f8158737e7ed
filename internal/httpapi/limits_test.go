package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/internal/defense"
	"github.com/authd/authd/internal/httpapi"
	"github.com/authd/authd/internal/ratelimit"
	rlmemory "github.com/authd/authd/internal/ratelimit/memory"
	"github.com/authd/authd/internal/secevent"
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

func fromAddr(ip string) reqOpt { return func(r *http.Request) { r.RemoteAddr = ip + ":40000" } }

// TestLimitsFollowIdentity is the shape of the defaults: the per-address
// budget (1000/s, burst 2000, as AUTHD_RATE_LIMIT_IP) charges only requests
// in which no client proved itself. A gateway that introspects and gets
// tokens from one address does twice the burst in no time on the limiter's
// clock and is never refused, while junk from another address (bad secrets,
// unknown tokens at userinfo, no credentials) runs out of the same budget
// and gets 429, and a prober guessing tokens with real credentials runs out
// of its inactive answers. Everything runs at once, from many goroutines.
func TestLimitsFollowIdentity(t *testing.T) {
	perIP := ratelimit.Limit{Rate: 1000, Burst: 2000}
	h := newHarness(t, withLimits(defense.RequestPolicy{
		PerIP:             perIP,
		InactivePerCaller: ratelimit.PerMinute(600, 600),
	}, defense.DefaultLoginPolicy()))
	h.addClient("gw", "gw-secret", nil)
	h.addClient("prober", "prober-secret", nil)
	good := h.token("gw", "gw-secret", nil)
	const gateway, attacker, prober = "192.0.2.10", "198.51.100.66", "203.0.113.7"

	const workers, each = 16, 250 // 4000 gateway requests: twice the burst
	type tally struct{ ok, limited, other int }
	var mu sync.Mutex
	tallies := map[string]*tally{"gateway": {}, "junk": {}, "prober": {}}
	record := func(who string, code int, okCodes ...int) {
		mu.Lock()
		defer mu.Unlock()
		switch t := tallies[who]; {
		case code == http.StatusTooManyRequests:
			t.limited++
		case slices.Contains(okCodes, code):
			t.ok++
		default:
			t.other++
		}
	}
	junk := []func() *httptest.ResponseRecorder{
		func() *httptest.ResponseRecorder {
			return h.postForm(httpapi.PathToken, url.Values{"grant_type": {"client_credentials"}}, withBasic("gw", "wrong"), fromAddr(attacker))
		},
		func() *httptest.ResponseRecorder {
			return h.postForm(httpapi.PathIntrospect, url.Values{"token": {good}}, withBasic("nobody", "x"), fromAddr(attacker))
		},
		func() *httptest.ResponseRecorder {
			return h.do(http.MethodGet, httpapi.PathUserInfo, "", "", withHeader("Authorization", "Bearer "+strings.Repeat("A", 48)), fromAddr(attacker))
		},
		func() *httptest.ResponseRecorder {
			return h.postForm(httpapi.PathRevoke, url.Values{"token": {"x"}}, fromAddr(attacker))
		},
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				if i%2 == 0 {
					c := h.postForm(httpapi.PathIntrospect, url.Values{"token": {good}}, withBasic("gw", "gw-secret"), fromAddr(gateway))
					record("gateway", c.Code, http.StatusOK)
				} else {
					c := h.postForm(httpapi.PathToken, url.Values{"grant_type": {"client_credentials"}}, withBasic("gw", "gw-secret"), fromAddr(gateway))
					record("gateway", c.Code, http.StatusOK)
				}
				record("junk", junk[(w+i)%len(junk)]().Code, 400, 401)
				if i < 50 {
					c := h.postForm(httpapi.PathIntrospect, url.Values{"token": {strings.Repeat(string(rune('A'+w)), 48)}}, withBasic("prober", "prober-secret"), fromAddr(prober))
					record("prober", c.Code, http.StatusOK)
				}
			}
		})
	}
	wg.Wait()
	gw, jk, pr := tallies["gateway"], tallies["junk"], tallies["prober"]
	t.Logf("gateway %+v, junk %+v, prober %+v", *gw, *jk, *pr)
	if gw.ok != workers*each || gw.limited != 0 || gw.other != 0 {
		t.Errorf("gateway: %d of %d succeeded, %d refused with 429, %d other", gw.ok, workers*each, gw.limited, gw.other)
	}
	// Charged after they are answered, junk may pass the burst by the
	// requests in flight at once, no more.
	if jk.other != 0 || jk.ok < perIP.Burst || jk.ok > perIP.Burst+workers || jk.limited != workers*each-jk.ok {
		t.Errorf("junk: %d answered (want %d to %d), %d refused, %d other", jk.ok, perIP.Burst, perIP.Burst+workers, jk.limited, jk.other)
	}
	if pr.limited == 0 || pr.other != 0 || pr.ok > 600+workers {
		t.Errorf("prober: %d answered, %d refused, %d other", pr.ok, pr.limited, pr.other)
	}
	// The refusals are the address's, not the client's: the gateway's
	// client from the junk's address is still served, the junk is not.
	if c := h.postForm(httpapi.PathToken, url.Values{"grant_type": {"client_credentials"}}, withBasic("gw", "gw-secret"), fromAddr(attacker)); c.Code != 429 {
		t.Errorf("an address over its budget is refused before anything else: %d", c.Code)
	}
	if c := h.postForm(httpapi.PathIntrospect, url.Values{"token": {good}}, withBasic("gw", "gw-secret"), fromAddr(gateway)); c.Code != 200 {
		t.Errorf("gateway after the burst: %d %s", c.Code, c.Body)
	}
	h.clock.Advance(time.Second)
	if c := junk[0](); c.Code != 401 {
		t.Errorf("junk after a second's refill: %d", c.Code)
	}
}

// TestPerClientLimitEverywhere: when configured, the per-client budget is
// charged at every endpoint a client authenticates at, not only the token
// endpoint, and refuses that client alone.
func TestPerClientLimitEverywhere(t *testing.T) {
	h := newHarness(t, withLimits(defense.RequestPolicy{PerClient: ratelimit.PerSecond(3, 3)}, defense.DefaultLoginPolicy()))
	h.addClient("svc", "svc-secret", nil)
	h.addClient("other", "other-secret", nil)
	tok := h.token("svc", "svc-secret", nil)                                                                            // 1
	h.introspect("svc", "svc-secret", tok)                                                                              // 2
	if w := h.postForm(httpapi.PathRevoke, url.Values{"token": {"x"}}, withBasic("svc", "svc-secret")); w.Code != 200 { // 3
		t.Fatalf("revoke: %d %s", w.Code, w.Body)
	}
	w := h.postForm(httpapi.PathIntrospect, url.Values{"token": {tok}}, withBasic("svc", "svc-secret"))
	if w.Code != 429 {
		t.Fatalf("4th request of the client in a second: %d %s", w.Code, w.Body)
	}
	retryAfter(t, w.Header())
	h.introspect("other", "other-secret", tok)
}

type eventLog struct {
	mu  sync.Mutex
	evs []secevent.Event
}

func (l *eventLog) Emit(e secevent.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.evs = append(l.evs, e)
}

// TestIntrospectionIsRecorded: every answered introspection, single or batch,
// emits one token.introspected for its caller (which the pipeline counts
// per caller and window); a refused one emits none.
func TestIntrospectionIsRecorded(t *testing.T) {
	ev := &eventLog{}
	h := newHarness(t, func(c *harnessConfig) { c.api.Events = ev })
	h.addClient("rs", "rs-secret", nil)
	tok := h.token("rs", "rs-secret", nil)
	h.introspect("rs", "rs-secret", tok)
	b, _ := json.Marshal(map[string]any{"tokens": []string{tok, "junk"}})
	if w := h.do(http.MethodPost, httpapi.PathIntrospectBatch, "application/json", string(b), withBasic("rs", "rs-secret")); w.Code != 200 {
		t.Fatalf("batch: %d %s", w.Code, w.Body)
	}
	if w := h.postForm(httpapi.PathIntrospect, url.Values{"token": {tok}}, withBasic("rs", "wrong")); w.Code != 401 {
		t.Fatalf("bad secret: %d", w.Code)
	}
	n := 0
	for _, e := range ev.evs {
		if e.Type == secevent.TokenIntrospected {
			n++
			if e.ClientID != "rs" {
				t.Errorf("event for %q", e.ClientID)
			}
		}
	}
	if n != 2 {
		t.Errorf("token.introspected events = %d, want 2 (all: %v)", n, ev.evs)
	}
}
