package login

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/defense"
	"github.com/authd/authd/internal/ratelimit/memory"
	rlredis "github.com/authd/authd/internal/ratelimit/redis"
	"github.com/authd/authd/internal/testenv/redistest"
)

// testIPHeader lets a test say which address a request comes from.
const testIPHeader = "X-Test-Client-Ip"

func headerIP(r *http.Request) string {
	if ip := r.Header.Get(testIPHeader); ip != "" {
		return ip
	}
	return remoteIP(r)
}

// guardedEnv is an env whose accounts sit behind the real login guard with
// the default policy, over lim.
func guardedEnv(t *testing.T, issuer string, lim defense.Limiter) *env {
	t.Helper()
	g := defense.NewLoginGuard(lim, defense.DefaultLoginPolicy(), []byte("0123456789abcdef0123456789abcdef"), nil, nil)
	return newEnvConfig(t, envConfig{issuer: issuer, guard: g, clientIP: headerIP})
}

// loginFrom fetches the standalone login form and submits it from ip.
func (e *env) loginFrom(c *http.Client, ip, username, pw string) *response {
	e.t.Helper()
	page := e.get(c, PathLogin)
	f := formOf(e.t, page.body)
	f.Set("username", username)
	f.Set("password", pw)
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+PathLogin, strings.NewReader(f.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(testIPHeader, ip)
	return e.do(c, req)
}

func eachLoginLimiter(t *testing.T, f func(t *testing.T, lim defense.Limiter)) {
	t.Run("memory", func(t *testing.T) {
		now := time.Unix(1_800_000_000, 0)
		l := memory.New(memory.Options{Now: func() time.Time { return now }})
		t.Cleanup(l.Close)
		f(t, l)
	})
	t.Run("redis", func(t *testing.T) {
		redisURL, prefix := redistest.Setup(t)
		l, err := rlredis.New(context.Background(), rlredis.Options{URL: redisURL, Prefix: prefix, Timeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(l.Close)
		f(t, l)
	})
}

var csrfValue = regexp.MustCompile(`name="csrf_token" value="[^"]*"`)

// TestMaliciousLockoutBlocked is the attack run's finding, end to end: ten
// wrong passwords for alice from 127.0.0.2 must not lock her out.
func TestMaliciousLockoutBlocked(t *testing.T) {
	eachLoginLimiter(t, func(t *testing.T, lim defense.Limiter) {
		e := guardedEnv(t, testIssuer, lim)
		const attackerIP, ownerIP = "127.0.0.2", "127.0.0.1"
		attacker := e.newBrowser()
		locked := map[string]*response{}
		for _, user := range []string{"alice", "ghost"} { // an account, and a name no one has
			for i := range 10 {
				if r := e.loginFrom(attacker, attackerIP, user, "guess "+strconv.Itoa(i)); r.status != http.StatusUnauthorized {
					t.Fatalf("%s: guess %d: %d", user, i+1, r.status)
				}
			}
			// Refused now, and on every try after, even with the right
			// password: the attacker stays locked out.
			for range 3 {
				r := e.loginFrom(attacker, attackerIP, user, testPassword)
				wantPage(t, r, http.StatusTooManyRequests, "Too many sign-in attempts. Try again in 5 minutes.")
				if n, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || n < 241 || n > 300 {
					t.Errorf("%s: Retry-After %q, want about 5 minutes", user, r.header.Get("Retry-After"))
				}
				locked[user] = r
			}
		}
		// An account and a name no one has are refused alike.
		a, g := locked["alice"], locked["ghost"]
		norm := func(r *response) string {
			return strings.ReplaceAll(csrfValue.ReplaceAllString(r.body, ""), "ghost", "alice")
		}
		// (Retry-After may differ by a second on Redis, whose clock runs.)
		ra, _ := strconv.Atoi(a.header.Get("Retry-After"))
		rg, _ := strconv.Atoi(g.header.Get("Retry-After"))
		if a.status != g.status || norm(a) != norm(g) || ra-rg > 1 || rg-ra > 1 {
			t.Errorf("alice and ghost answered differently:\n%d %d %s\n%d %d %s", a.status, ra, a.body, g.status, rg, g.body)
		}

		// The owner, at home, with a browser that never logged in before.
		owner := e.newBrowser()
		wantPage(t, e.loginFrom(owner, ownerIP, "alice", testPassword), http.StatusOK, "You are signed in as alice")
		// The owner's browser now holds a device cookie: trusted even from
		// the attacker's address (a shared NAT, a café).
		signOut(t, e, owner)
		wantPage(t, e.loginFrom(owner, attackerIP, "alice", testPassword), http.StatusOK, "You are signed in as alice")
		// Which does nothing for the attacker's own browser.
		wantPage(t, e.loginFrom(attacker, attackerIP, "alice", testPassword), http.StatusTooManyRequests, "Too many sign-in attempts")

		// An administrator's unlock forgets the attacker's failures too.
		if err := e.svc.Unlock(context.Background(), "alice"); err != nil {
			t.Fatal(err)
		}
		wantPage(t, e.loginFrom(attacker, attackerIP, "alice", "guess"), http.StatusUnauthorized, "Invalid username or password")
	})
}

// signOut submits the logout confirmation form.
func signOut(t *testing.T, e *env, c *http.Client) {
	t.Helper()
	page := e.get(c, PathLogout)
	f := formOf(t, page.body)
	r := e.post(c, PathLogout, f)
	wantPage(t, r, http.StatusOK, "You are signed out")
}

// TestDeviceCookieTrust: a device cookie counts only for the account it was
// issued to, unaltered and unexpired.
func TestDeviceCookieTrust(t *testing.T) {
	e := newEnv(t, testIssuer)
	e.signIn(e.client)
	u, _ := url.Parse(e.srv.URL)
	var good string
	for _, c := range e.client.Jar.Cookies(u) {
		if c.Name == deviceCookie {
			good = c.Value
		}
	}
	p, ok := parseDeviceCookie(good)
	if !ok {
		t.Fatalf("device cookie %q does not parse", good)
	}
	tampered := []byte(good)
	tampered[3] ^= 1
	tests := []struct {
		name, value, username string
		advance               time.Duration
		want                  bool
	}{
		{"its account", good, "alice", 0, true},
		{"another account", good, "bob", 0, false},
		{"tampered", string(tampered), "alice", 0, false},
		{"other id, same mac", "AAAAAAAAAAAAAAAAAAAAAA" + good[deviceIDLen:], "alice", 0, false},
		{"no username", good, "", 0, false},
		{"garbage", "x", "alice", 0, false},
		{"a year on", good, "alice", deviceTTL - time.Second, true},
		{"expired", good, "alice", deviceTTL + time.Second, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.clock.Advance(tc.advance)
			defer e.clock.Advance(-tc.advance)
			r, _ := http.NewRequest(http.MethodPost, "/", nil)
			r.AddCookie(&http.Cookie{Name: deviceCookie, Value: tc.value})
			got := e.h.trustedDevice(r, tc.username)
			if (got != "") != tc.want || got != "" && got != p.id {
				t.Errorf("trustedDevice = %q, want trusted %v (id %q)", got, tc.want, p.id)
			}
		})
	}
	// A second login from the same browser keeps the device's identifier.
	r := e.login(e.client, e.authorize(e.client, authParams("first", "prompt", "login")), "alice", testPassword)
	if r.status != http.StatusSeeOther {
		t.Fatalf("second login: %d", r.status)
	}
	for _, c := range e.client.Jar.Cookies(u) {
		if c.Name == deviceCookie {
			if q, _ := parseDeviceCookie(c.Value); q.id != p.id {
				t.Errorf("device id changed from %s to %s", p.id, q.id)
			}
		}
	}
}

// FuzzParseDeviceCookie: the parser of a cookie anyone can send never
// panics, and accepts only the canonical shape deviceCookieValue writes.
func FuzzParseDeviceCookie(f *testing.F) {
	h := &Handler{deviceKey: deriveDeviceKey(make([]byte, 32))}
	f.Add(h.deviceCookieValue("AAAAAAAAAAAAAAAAAAAAAA", "alice", time.Unix(1_800_000_000, 0)))
	f.Add("AAAAAAAAAAAAAAAAAAAAAA.0.AAAA")
	f.Add("..")
	f.Add("")
	f.Fuzz(func(t *testing.T, v string) {
		p, ok := parseDeviceCookie(v)
		if !ok {
			return
		}
		if len(p.id) != deviceIDLen || len(p.mac) != 32 || p.issued == "" || !digits(p.issued) {
			t.Fatalf("accepted %q as %+v", v, p)
		}
		if got := p.id + "." + p.issued + "." + b64url.EncodeToString(p.mac); got != v {
			t.Fatalf("non-canonical %q accepted (re-encodes to %q)", v, got)
		}
	})
}

func TestTooManyAttemptsMessage(t *testing.T) {
	tests := []struct {
		retry int
		want  string
	}{
		{0, "Too many sign-in attempts. Please try again later."},
		{1, "Too many sign-in attempts. Try again in 1 second."},
		{30, "Too many sign-in attempts. Try again in 30 seconds."},
		{90, "Too many sign-in attempts. Try again in 90 seconds."},
		{91, "Too many sign-in attempts. Try again in 2 minutes."},
		{241, "Too many sign-in attempts. Try again in 5 minutes."},
		{300, "Too many sign-in attempts. Try again in 5 minutes."},
		{3600, "Too many sign-in attempts. Try again in 60 minutes."},
		{2 * 3600, "Too many sign-in attempts. Try again in 2 hours."},
	}
	for _, tc := range tests {
		if got := tooManyAttempts(tc.retry); got != tc.want {
			t.Errorf("tooManyAttempts(%d) = %q, want %q", tc.retry, got, tc.want)
		}
	}
}
