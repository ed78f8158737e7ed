package secevent_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/authd/authd/internal/secevent"
	"github.com/authd/authd/internal/store"
)

// bubbleStart is the fake clock's start in a synctest bubble, which is also
// the start of the first window.
var bubbleStart = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// burst is n copies of e, emitted at offset at from the bubble's start.
type burst struct {
	at time.Duration
	n  int
	e  secevent.Event
}

// sources is one event of e from each of n distinct IPv4 addresses.
func sources(at time.Duration, n int, e secevent.Event) []burst {
	out := make([]burst, n)
	for i := range out {
		e := e
		e.IP = fmt.Sprintf("10.%d.%d.%d", i>>16, (i>>8)&0xff, i&0xff)
		out[i] = burst{at: at, n: 1, e: e}
	}
	return out
}

// runBursts emits the bursts in a bubble (the pipeline stamps times from the
// fake clock), closes the pipeline at closeAt and returns what the sink got.
func runBursts(t *testing.T, opts secevent.Options, bursts []burst, closeAt time.Duration) ([]store.AuditEvent, *secevent.Pipeline) {
	t.Helper()
	sink := &memorySink{}
	var p *secevent.Pipeline
	synctest.Test(t, func(t *testing.T) {
		p = secevent.New(sink, opts)
		start(t, p)
		for _, b := range bursts {
			if d := time.Until(bubbleStart.Add(b.at)); d > 0 {
				time.Sleep(d) // advances the fake clock; the pipeline's ticks run meanwhile
			}
			for range b.n {
				p.Emit(b.e)
			}
		}
		time.Sleep(time.Until(bubbleStart.Add(closeAt)))
		closeWithin(t, p, time.Second)
	})
	return sink.snapshot(), p
}

// describe renders a row for comparison: its fields, its Detail without the
// window, and the window as offsets from the bubble's start.
func describe(t *testing.T, r store.AuditEvent) string {
	t.Helper()
	var d map[string]string
	if err := json.Unmarshal([]byte(r.Detail), &d); err != nil {
		t.Fatalf("Detail %q: %v", r.Detail, err)
	}
	s := fmt.Sprintf("%s ip=%s client=%s subject=%s", r.Type, r.IP, r.ClientID, r.Subject)
	for _, k := range []string{"limit", "count", "overflow"} {
		if v, ok := d[k]; ok {
			s += " " + k + "=" + v
		}
	}
	if ws, ok := d["window_start"]; ok {
		s += fmt.Sprintf(" window=%s..%s", offset(t, ws), offset(t, d["window_end"]))
	}
	return s
}

func offset(t *testing.T, ts string) string {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		t.Fatalf("window time %q: %v", ts, err)
	}
	return at.Sub(bubbleStart).String()
}

// represented is how many events the rows stand for: a row with a count
// stands for that many, any other for one.
func represented(t *testing.T, rows []store.AuditEvent) uint64 {
	t.Helper()
	var n uint64
	for _, r := range rows {
		var d map[string]string
		if err := json.Unmarshal([]byte(r.Detail), &d); err != nil {
			t.Fatalf("Detail %q: %v", r.Detail, err)
		}
		c := uint64(1)
		if v, ok := d["count"]; ok {
			var err error
			if c, err = strconv.ParseUint(v, 10, 64); err != nil || c == 0 {
				t.Fatalf("count %q in %s is not a positive number", v, r.Detail)
			}
		}
		n += c
	}
	return n
}

func TestRefusalsAreAggregated(t *testing.T) {
	perIP := func(ip string) secevent.Event {
		return secevent.Event{Type: secevent.RateLimitExceeded, IP: ip, Detail: map[string]string{"limit": "per_ip"}}
	}
	authFailed := func(ip, client string) secevent.Event {
		return secevent.Event{Type: secevent.ClientAuthFailed, IP: ip, ClientID: client}
	}
	loginFailed := func(ip, subject string) secevent.Event {
		return secevent.Event{Type: secevent.LoginFailed, IP: ip, Subject: subject}
	}
	tests := []struct {
		name     string
		opts     secevent.Options
		bursts   []burst
		closeAt  time.Duration
		wantRows []string
	}{
		{
			name:    "a flood from one source is its first event and one count",
			bursts:  []burst{{at: 10 * time.Second, n: 5000, e: perIP("192.0.2.7")}},
			closeAt: 30 * time.Second,
			wantRows: []string{
				"ratelimit.exceeded ip=192.0.2.7 client= subject= limit=per_ip",
				"ratelimit.exceeded ip=192.0.2.7 client= subject= limit=per_ip count=4999 window=0s..30s",
			},
		},
		{
			name:     "a single refusal is one plain row",
			bursts:   []burst{{at: time.Second, n: 1, e: loginFailed("192.0.2.7", "u1")}},
			closeAt:  2 * time.Minute,
			wantRows: []string{"login.failed ip=192.0.2.7 client= subject=u1"},
		},
		{
			name: "each window starts over, and ends on the minute",
			bursts: []burst{
				{at: 10 * time.Second, n: 10, e: perIP("192.0.2.7")},
				{at: 70 * time.Second, n: 4, e: perIP("192.0.2.7")},
			},
			closeAt: 80 * time.Second,
			wantRows: []string{
				"ratelimit.exceeded ip=192.0.2.7 client= subject= limit=per_ip",
				"ratelimit.exceeded ip=192.0.2.7 client= subject= limit=per_ip count=9 window=0s..1m0s",
				"ratelimit.exceeded ip=192.0.2.7 client= subject= limit=per_ip",
				"ratelimit.exceeded ip=192.0.2.7 client= subject= limit=per_ip count=3 window=1m0s..1m20s",
			},
		},
		{
			name: "the window is configurable",
			opts: secevent.Options{Window: 10 * time.Second},
			bursts: []burst{
				{at: 1 * time.Second, n: 3, e: perIP("192.0.2.7")},
				{at: 12 * time.Second, n: 2, e: perIP("192.0.2.7")},
			},
			closeAt: 15 * time.Second,
			wantRows: []string{
				"ratelimit.exceeded ip=192.0.2.7 client= subject= limit=per_ip",
				"ratelimit.exceeded ip=192.0.2.7 client= subject= limit=per_ip count=2 window=0s..10s",
				"ratelimit.exceeded ip=192.0.2.7 client= subject= limit=per_ip",
				"ratelimit.exceeded ip=192.0.2.7 client= subject= limit=per_ip count=1 window=10s..15s",
			},
		},
		{
			name: "IPv6 sources are keyed by /64",
			bursts: []burst{
				{at: time.Second, n: 1, e: perIP("2001:db8:1:2::1")},
				{at: time.Second, n: 1, e: perIP("2001:db8:1:2:aaaa:bbbb:cccc:dddd")},
				{at: time.Second, n: 1, e: perIP("2001:db8:1:3::1")},
			},
			closeAt: 5 * time.Second,
			wantRows: []string{
				"ratelimit.exceeded ip=2001:db8:1:2::1 client= subject= limit=per_ip",
				"ratelimit.exceeded ip=2001:db8:1:2::/64 client= subject= limit=per_ip count=1 window=0s..5s",
				"ratelimit.exceeded ip=2001:db8:1:3::1 client= subject= limit=per_ip",
			},
		},
		{
			name: "an IPv4 address is one source however it is spelled",
			bursts: []burst{
				{at: time.Second, n: 1, e: perIP("192.0.2.7")},
				{at: time.Second, n: 1, e: perIP("::ffff:192.0.2.7")},
			},
			closeAt: 5 * time.Second,
			wantRows: []string{
				"ratelimit.exceeded ip=192.0.2.7 client= subject= limit=per_ip",
				"ratelimit.exceeded ip=192.0.2.7 client= subject= limit=per_ip count=1 window=0s..5s",
			},
		},
		{
			name: "type, client, subject and limit tell keys apart",
			bursts: []burst{
				{at: time.Second, n: 2, e: authFailed("192.0.2.7", "app-a")},
				{at: time.Second, n: 2, e: authFailed("192.0.2.7", "app-b")},
				{at: time.Second, n: 2, e: loginFailed("192.0.2.7", "alice")},
				{at: time.Second, n: 2, e: loginFailed("192.0.2.7", "bob")},
				{at: time.Second, n: 2, e: perIP("192.0.2.7")},
				{at: time.Second, n: 2, e: secevent.Event{Type: secevent.RateLimitExceeded, IP: "192.0.2.7",
					Detail: map[string]string{"limit": "failures_per_account"}}},
				{at: time.Second, n: 2, e: secevent.Event{Type: secevent.TokenEnumeration, IP: "192.0.2.7", ClientID: "rs"}},
				{at: time.Second, n: 2, e: secevent.Event{Type: secevent.AdminAuthFailed, IP: "192.0.2.7"}},
				{at: time.Second, n: 2, e: secevent.Event{Type: secevent.LoginLockedOut, IP: "192.0.2.7", Subject: "alice"}},
			},
			closeAt: 5 * time.Second,
			wantRows: []string{
				"client.auth_failed ip=192.0.2.7 client=app-a subject=",
				"client.auth_failed ip=192.0.2.7 client=app-a subject= count=1 window=0s..5s",
				"client.auth_failed ip=192.0.2.7 client=app-b subject=",
				"client.auth_failed ip=192.0.2.7 client=app-b subject= count=1 window=0s..5s",
				"login.failed ip=192.0.2.7 client= subject=alice",
				"login.failed ip=192.0.2.7 client= subject=alice count=1 window=0s..5s",
				"login.failed ip=192.0.2.7 client= subject=bob",
				"login.failed ip=192.0.2.7 client= subject=bob count=1 window=0s..5s",
				"ratelimit.exceeded ip=192.0.2.7 client= subject= limit=per_ip",
				"ratelimit.exceeded ip=192.0.2.7 client= subject= limit=per_ip count=1 window=0s..5s",
				"ratelimit.exceeded ip=192.0.2.7 client= subject= limit=failures_per_account",
				"ratelimit.exceeded ip=192.0.2.7 client= subject= limit=failures_per_account count=1 window=0s..5s",
				"token.enumeration ip=192.0.2.7 client=rs subject=",
				"token.enumeration ip=192.0.2.7 client=rs subject= count=1 window=0s..5s",
				"admin.auth_failed ip=192.0.2.7 client= subject=",
				"admin.auth_failed ip=192.0.2.7 client= subject= count=1 window=0s..5s",
				"login.locked_out ip=192.0.2.7 client= subject=alice",
				"login.locked_out ip=192.0.2.7 client= subject=alice count=1 window=0s..5s",
			},
		},
		{
			name: "other events are written one row each",
			bursts: []burst{
				{at: time.Second, n: 3, e: secevent.Event{Type: secevent.TokenRevoked, IP: "192.0.2.7", ClientID: "app"}},
				{at: time.Second, n: 2, e: secevent.Event{Type: secevent.RefreshReused, IP: "192.0.2.7", ClientID: "app", Subject: "alice"}},
			},
			closeAt: 5 * time.Second,
			wantRows: []string{
				"token.revoked ip=192.0.2.7 client=app subject=",
				"token.revoked ip=192.0.2.7 client=app subject=",
				"token.revoked ip=192.0.2.7 client=app subject=",
				"refresh.reused ip=192.0.2.7 client=app subject=alice",
				"refresh.reused ip=192.0.2.7 client=app subject=alice",
			},
		},
		{
			name: "beyond the key cap, a type's new keys fold into one row",
			opts: secevent.Options{MaxKeys: 3},
			bursts: slices.Concat(
				sources(time.Second, 1000, loginFailed("", "alice")),
				[]burst{
					{at: 2 * time.Second, n: 5, e: authFailed("192.0.2.9", "app")},
					{at: 3 * time.Second, n: 7, e: loginFailed("10.0.0.1", "alice")}, // an existing key still counts alone
				}),
			closeAt: 5 * time.Second,
			wantRows: []string{
				"login.failed ip=10.0.0.0 client= subject=alice",
				"login.failed ip=10.0.0.1 client= subject=alice",
				"login.failed ip=10.0.0.1 client= subject=alice count=7 window=0s..5s",
				"login.failed ip=10.0.0.2 client= subject=alice",
				"login.failed ip=other client= subject= count=997 overflow=true window=0s..5s",
				"client.auth_failed ip=other client= subject= count=5 overflow=true window=0s..5s",
			},
		},
		{
			name:   "the cap is per window",
			opts:   secevent.Options{MaxKeys: 1},
			bursts: slices.Concat(sources(time.Second, 3, perIP("")), sources(61*time.Second, 2, perIP(""))),
			wantRows: []string{
				"ratelimit.exceeded ip=10.0.0.0 client= subject= limit=per_ip",
				"ratelimit.exceeded ip=other client= subject= count=2 overflow=true window=0s..1m0s",
				"ratelimit.exceeded ip=10.0.0.0 client= subject= limit=per_ip",
				"ratelimit.exceeded ip=other client= subject= count=1 overflow=true window=1m0s..1m10s",
			},
			closeAt: 70 * time.Second,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.FlushEvery = time.Second
			rows, p := runBursts(t, tc.opts, tc.bursts, tc.closeAt)
			var got []string
			for _, r := range rows {
				got = append(got, describe(t, r))
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tc.wantRows))
			if !slices.Equal(got, want) {
				t.Errorf("rows:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
			}
			var total uint64
			for _, b := range tc.bursts {
				total += uint64(b.n)
			}
			if n := represented(t, rows); n != total {
				t.Errorf("the rows stand for %d events, want the %d emitted", n, total)
			}
			if c := p.Emitted() + p.Aggregated() + p.Dropped(); c != total || p.Dropped() != 0 {
				t.Errorf("Emitted %d + Aggregated %d + Dropped %d, want %d with none dropped",
					p.Emitted(), p.Aggregated(), p.Dropped(), total)
			}
		})
	}
}

// TestAggregateRowCarriesTheEvent: the aggregate row keeps what the first
// occurrence said (its Detail, redacted) and is stamped with the last one's
// time, so the trail says when the attack stopped.
func TestAggregateRowCarriesTheEvent(t *testing.T) {
	sink := &memorySink{}
	p := secevent.New(sink, secevent.Options{FlushEvery: time.Hour})
	for i := range 3 {
		p.Emit(secevent.Event{Type: secevent.ClientAuthFailed, ClientID: "app", IP: "192.0.2.7",
			Detail: map[string]string{"reason": "bad secret", "client_secret": "s3cr3t"},
			Time:   t0.Add(time.Duration(i) * time.Second)})
	}
	closeWithin(t, p, 5*time.Second)
	rows := sink.snapshot()
	if len(rows) != 2 {
		t.Fatalf("got %d rows, want the first and the count: %+v", len(rows), rows)
	}
	agg := rows[1]
	var d map[string]string
	if err := json.Unmarshal([]byte(agg.Detail), &d); err != nil {
		t.Fatal(err)
	}
	if d["count"] != "2" || d["reason"] != "bad secret" || d["client_secret"] != "[redacted]" ||
		agg.ClientID != "app" || agg.IP != "192.0.2.7" || !agg.Time.Equal(t0.Add(2*time.Second)) {
		t.Errorf("aggregate row %+v, detail %v", agg, d)
	}
	if _, err := time.Parse(time.RFC3339Nano, d["window_start"]); err != nil {
		t.Errorf("window_start %q: %v", d["window_start"], err)
	}
	if strings.Contains(agg.Detail, "s3cr3t") {
		t.Errorf("a secret reached the audit trail: %s", agg.Detail)
	}
}

// TestFirstRefusalIsNotDelayed: the first refusal of its key is written with
// the next batch, not at the end of its window.
func TestFirstRefusalIsNotDelayed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sink := &memorySink{}
		p := secevent.New(sink, secevent.Options{FlushEvery: 200 * time.Millisecond})
		start(t, p)
		p.Emit(secevent.Event{Type: secevent.LoginFailed, IP: "192.0.2.7", Subject: "alice"})
		p.Emit(secevent.Event{Type: secevent.LoginFailed, IP: "192.0.2.7", Subject: "alice"})
		time.Sleep(200 * time.Millisecond)
		synctest.Wait()
		if rows := sink.snapshot(); len(rows) != 1 || rows[0].Subject != "alice" || rows[0].Detail != "{}" {
			t.Errorf("after one flush the sink has %+v, want the first login.failed as it was", rows)
		}
		closeWithin(t, p, time.Second)
		if rows := sink.snapshot(); len(rows) != 2 {
			t.Errorf("after Close the sink has %d rows, want the first and the count", len(rows))
		}
	})
}

// TestRefusalFloodIsBounded is the attack run's flood in miniature: a
// botnet's worth of refusals against a stuck store. Emit never blocks, the
// refusals do not crowd other events out of the queue, and the trail gets a
// bounded number of rows that still account for every refusal.
func TestRefusalFloodIsBounded(t *testing.T) {
	const (
		n       = 200_000
		nets    = 50_000 // distinct /64s
		maxKeys = 500
	)
	ips := make([]string, nets)
	for i := range ips {
		ips[i] = fmt.Sprintf("2001:db8:%x:%x::%x", i>>16, i&0xffff, i%7+1)
	}
	sink := &stuckSink{release: make(chan struct{})}
	p := secevent.New(sink, secevent.Options{QueueSize: 1000, MaxBatch: 100, MaxKeys: maxKeys, FlushEvery: time.Millisecond})
	start(t, p)

	emitted := make(chan struct{})
	go func() {
		defer close(emitted)
		for i := range n {
			p.Emit(secevent.Event{Type: secevent.ClientAuthFailed, ClientID: "app", IP: ips[i%nets]})
		}
		// The queue has room for events that must be written one by one.
		p.Emit(secevent.Event{Type: secevent.AdminClientDeleted, ClientID: "app"})
	}()
	select {
	case <-emitted:
	case <-time.After(10 * time.Second):
		t.Fatal("Emit blocked while the sink was stuck")
	}
	if p.Dropped() != 0 {
		t.Errorf("Dropped = %d, want 0: refusals must not fill the queue", p.Dropped())
	}
	close(sink.release)
	closeWithin(t, p, 10*time.Second)

	rows := sink.snapshot()
	// Each key's first row and its count, one overflow row, the admin event.
	if limit := 2*maxKeys + 1 + 1; len(rows) > limit {
		t.Errorf("%d rows for %d refusals, want at most %d", len(rows), n, limit)
	}
	if got := represented(t, rows); got != n+1 {
		t.Errorf("the rows stand for %d events, want %d", got, n+1)
	}
	if p.Overflowed() != n-uint64(maxKeys)*n/nets {
		t.Errorf("Overflowed = %d, want every refusal from a source beyond the first %d", p.Overflowed(), maxKeys)
	}
	if !slices.ContainsFunc(rows, func(r store.AuditEvent) bool { return r.Type == secevent.AdminClientDeleted }) {
		t.Error("the admin event was not written")
	}
	if p.WriteErrors() != 0 || p.Written() != uint64(len(rows)) {
		t.Errorf("WriteErrors %d Written %d, want 0, %d", p.WriteErrors(), p.Written(), len(rows))
	}
}

// TestConcurrentRefusalsAreCounted: racing emitters and a window closing
// under them lose no count (run with -race).
func TestConcurrentRefusalsAreCounted(t *testing.T) {
	const goroutines, each = 8, 2000
	synctest.Test(t, func(t *testing.T) {
		sink := &memorySink{}
		p := secevent.New(sink, secevent.Options{Window: time.Second, FlushEvery: 10 * time.Millisecond, MaxKeys: 50})
		start(t, p)
		done := make(chan struct{})
		for g := range goroutines {
			go func() {
				defer func() { done <- struct{}{} }()
				for i := range each {
					p.Emit(secevent.Event{Type: secevent.LoginFailed, IP: fmt.Sprintf("192.0.2.%d", (g*each+i)%100)})
					if i%100 == 0 {
						time.Sleep(100 * time.Millisecond) // let windows close while others emit
					}
				}
			}()
		}
		for range goroutines {
			<-done
		}
		closeWithin(t, p, time.Second)
		if got := represented(t, sink.snapshot()); got != goroutines*each {
			t.Errorf("the rows stand for %d events, want %d", got, goroutines*each)
		}
	})
}

// BenchmarkEmitRefusalOverCap is a botnet past the key cap: every Emit
// is a new key, and counted in the overflow row.
func BenchmarkEmitRefusalOverCap(b *testing.B) {
	p := secevent.New(nopSink{}, secevent.Options{MaxKeys: 1})
	go p.Run(b.Context())
	defer p.Close(context.Background())
	ips := make([]string, 1<<16)
	for i := range ips {
		ips[i] = fmt.Sprintf("10.0.%d.%d", i>>8, i&0xff)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p.Emit(secevent.Event{Type: secevent.LoginFailed, IP: ips[i%len(ips)], Time: t0})
		i++
	}
}
