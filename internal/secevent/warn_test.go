package secevent_test

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/authd/authd/internal/secevent"
)

// logLine is one line of the JSON log.
type logLine struct {
	Level      string
	Msg        string
	Type       string
	IP         string
	ClientID   string `json:"client_id"`
	Subject    string
	Detail     map[string]string
	Suppressed int
}

func warnings(t *testing.T, logs *logBuffer) []logLine {
	t.Helper()
	var out []logLine
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	for sc.Scan() {
		var l logLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if l.Level == "WARN" && (strings.HasPrefix(l.Msg, "secevent: security") || strings.Contains(l.Msg, "distinct sources")) {
			out = append(out, l)
		}
	}
	return out
}

// TestNotableEventsAreLogged: an operator sees a WARN line when a source or
// an account first hits a limit in a window, when a refresh token or code
// is reused, and when someone fails the admin API's authentication; not for
// every failed login, which is the trail's business.
func TestNotableEventsAreLogged(t *testing.T) {
	const ip = "192.0.2.7"
	tests := []struct {
		name   string
		opts   secevent.Options
		events []secevent.Event
		want   []string // type and ip of each WARN line, in order
	}{
		{"a limit, once per source and window",
			secevent.Options{},
			[]secevent.Event{
				{Type: secevent.RateLimitExceeded, IP: ip, Detail: map[string]string{"limit": "per_ip"}},
				{Type: secevent.RateLimitExceeded, IP: ip, Detail: map[string]string{"limit": "per_ip"}},
				{Type: secevent.RateLimitExceeded, IP: "192.0.2.8", Detail: map[string]string{"limit": "per_ip"}},
				{Type: secevent.RateLimitExceeded, IP: ip, Detail: map[string]string{"limit": "failures_per_account"}},
				{Type: secevent.TokenEnumeration, IP: ip, ClientID: "rs"},
				{Type: secevent.TokenEnumeration, IP: ip, ClientID: "rs"},
			},
			[]string{"ratelimit.exceeded " + ip, "ratelimit.exceeded 192.0.2.8", "ratelimit.exceeded " + ip, "token.enumeration " + ip}},
		{"lockouts and admin failures, once per key and window",
			secevent.Options{},
			[]secevent.Event{
				{Type: secevent.LoginLockedOut, IP: ip, Subject: "alice"},
				{Type: secevent.LoginLockedOut, IP: ip, Subject: "alice"},
				{Type: secevent.AdminAuthFailed, IP: ip},
				{Type: secevent.AdminAuthFailed, IP: ip},
			},
			[]string{"login.locked_out " + ip, "admin.auth_failed " + ip}},
		{"reuse, every time",
			secevent.Options{},
			[]secevent.Event{
				{Type: secevent.RefreshReused, IP: ip, ClientID: "app", Subject: "alice"},
				{Type: secevent.RefreshReused, IP: ip, ClientID: "app", Subject: "alice"},
				{Type: secevent.CodeReused, IP: ip, ClientID: "app", Subject: "alice"},
			},
			[]string{"refresh.reused " + ip, "refresh.reused " + ip, "code.reused " + ip}},
		{"failed logins and client authentication are not notable",
			secevent.Options{},
			[]secevent.Event{
				{Type: secevent.LoginFailed, IP: ip, Subject: "alice"},
				{Type: secevent.ClientAuthFailed, IP: ip, ClientID: "app"},
				{Type: secevent.TokenRevoked, IP: ip, ClientID: "app"},
			},
			nil},
		{"a distributed flood past the key cap, once per type",
			secevent.Options{MaxKeys: 1},
			[]secevent.Event{
				{Type: secevent.LoginFailed, IP: "192.0.2.1"},
				{Type: secevent.LoginFailed, IP: "192.0.2.2"},
				{Type: secevent.LoginFailed, IP: "192.0.2.3"},
			},
			[]string{"login.failed other"}},
		{"turned off",
			secevent.Options{MaxWarnings: -1},
			[]secevent.Event{{Type: secevent.RefreshReused, IP: ip}, {Type: secevent.AdminAuthFailed, IP: ip}},
			nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs logBuffer
			tc.opts.Logger = logger(&logs)
			p := secevent.New(&memorySink{}, tc.opts)
			for _, e := range tc.events {
				p.Emit(e)
			}
			var got []string
			for _, l := range warnings(t, &logs) {
				got = append(got, l.Type+" "+l.IP)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("WARN lines:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(tc.want, "\n\t"))
			}
			closeWithin(t, p, time.Second)
		})
	}
}

// TestWarningsAreBounded: however many sources hit their limits, a window
// logs at most MaxWarnings lines, and the window's end says how many it held
// back. A line says who and what, never a secret.
func TestWarningsAreBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs logBuffer
		p := secevent.New(&memorySink{}, secevent.Options{MaxWarnings: 3, FlushEvery: time.Second, Logger: logger(&logs)})
		start(t, p)
		time.Sleep(time.Second)
		p.Emit(secevent.Event{Type: secevent.RefreshReused, IP: "192.0.2.1", ClientID: "app", Subject: "alice",
			Detail: map[string]string{"grant": "g1", "refresh_token": "s3cr3t-token"}})
		for _, ip := range []string{"192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5", "192.0.2.6"} {
			for range 10 {
				p.Emit(secevent.Event{Type: secevent.RateLimitExceeded, IP: ip, Detail: map[string]string{"limit": "per_ip"}})
			}
		}
		time.Sleep(time.Minute) // the window ends
		p.Emit(secevent.Event{Type: secevent.RateLimitExceeded, IP: "192.0.2.6", Detail: map[string]string{"limit": "per_ip"}})
		closeWithin(t, p, time.Second)

		if strings.Contains(logs.String(), "s3cr3t") {
			t.Errorf("a secret reached the log:\n%s", logs.String())
		}
		lines := warnings(t, &logs)
		var got []string
		for _, l := range lines {
			if l.Suppressed > 0 {
				got = append(got, "suppressed "+string(rune('0'+l.Suppressed)))
				continue
			}
			got = append(got, l.Type+" "+l.IP)
		}
		want := []string{
			"refresh.reused 192.0.2.1",
			"ratelimit.exceeded 192.0.2.2",
			"ratelimit.exceeded 192.0.2.3",
			"suppressed 3",
			"ratelimit.exceeded 192.0.2.6", // first in the new window
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("WARN lines:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
		}
		first := lines[0]
		if first.ClientID != "app" || first.Subject != "alice" || first.Detail["grant"] != "g1" ||
			first.Detail["refresh_token"] != "[redacted]" {
			t.Errorf("the reuse line is %+v, want client, subject and the redacted detail", first)
		}
	})
}
