package secevent_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/authd/authd/internal/secevent"
	"github.com/authd/authd/internal/store"
)

func detailOf(t *testing.T, r store.AuditEvent) map[string]string {
	t.Helper()
	var d map[string]string
	if err := json.Unmarshal([]byte(r.Detail), &d); err != nil {
		t.Fatalf("Detail %q: %v", r.Detail, err)
	}
	return d
}

// tokenFlood emits, from many goroutines at once, n token.issued events
// spread over three clients and two grants (each with a subject and an
// address of its own), n/10 token.introspected, and in the middle of it the
// events that must each stay a row: a failed client authentication, a
// refresh token's reuse and an admin change.
func tokenFlood(p *secevent.Pipeline, n int) {
	const goroutines = 8
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := g; i < n; i += goroutines {
				grant := "client_credentials"
				if i%2 == 1 {
					grant = "refresh_token"
				}
				p.Emit(secevent.Event{Type: secevent.TokenIssued, ClientID: fmt.Sprintf("app%d", i%3),
					Subject: fmt.Sprintf("user%d", i), IP: fmt.Sprintf("10.0.%d.%d", i>>8&0xff, i&0xff),
					Detail: map[string]string{"grant_type": grant}})
				if i%10 == 0 {
					p.Emit(secevent.Event{Type: secevent.TokenIntrospected, ClientID: "gateway", IP: "192.0.2.10"})
				}
				if i == n/2 {
					p.Emit(secevent.Event{Type: secevent.ClientAuthFailed, ClientID: "app0", IP: "198.51.100.66"})
					p.Emit(secevent.Event{Type: secevent.RefreshReused, ClientID: "app1", Subject: "user7"})
					p.Emit(secevent.Event{Type: secevent.AdminClientDeleted, ClientID: "app2"})
				}
			}
		})
	}
	wg.Wait()
}

// TestTokenEvents: a flood of token events writes a bounded number of rows
// (aggregate: one per type, client and grant_type a window, with the exact
// count; sample: one in SampleEvery; off: none), every security-relevant
// event under the same flood is still written a row each, and the metrics
// account for every event that was not written on its own.
func TestTokenEvents(t *testing.T) {
	const n = 20_000
	for _, tc := range []struct {
		mode        string
		every       int
		wantVolume  int // rows of token events
		wantSampled uint64
		wantOff     uint64
		wantAgg     uint64
	}{
		{mode: "", wantVolume: 3*2 + 1, wantAgg: n + n/10}, // the default is aggregate
		{mode: secevent.TokenEventsAggregate, wantVolume: 3*2 + 1, wantAgg: n + n/10},
		{mode: secevent.TokenEventsSample, every: 100, wantVolume: (n + n/10) / 100, wantSampled: (n + n/10) - (n+n/10)/100},
		{mode: secevent.TokenEventsOff, wantVolume: 0, wantOff: n + n/10},
	} {
		t.Run("mode="+tc.mode, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sink := &memorySink{}
				// A queue far smaller than the flood: token events must not
				// need it (aggregate, off) or crowd out what does.
				p := secevent.New(sink, secevent.Options{TokenEvents: tc.mode, SampleEvery: tc.every, QueueSize: 1000})
				start(t, p)
				tokenFlood(p, n)
				closeWithin(t, p, time.Second)
				rows := sink.snapshot()
				var volume []store.AuditEvent
				kept := map[string]int{}
				for _, r := range rows {
					if r.Type == secevent.TokenIssued || r.Type == secevent.TokenIntrospected {
						volume = append(volume, r)
					} else {
						kept[r.Type]++
					}
				}
				for _, typ := range []string{secevent.ClientAuthFailed, secevent.RefreshReused, secevent.AdminClientDeleted} {
					if kept[typ] != 1 {
						t.Errorf("%s rows = %d, want 1 (all: %v)", typ, kept[typ], kept)
					}
				}
				if len(volume) != tc.wantVolume {
					t.Errorf("token event rows = %d, want %d", len(volume), tc.wantVolume)
				}
				if p.SampledOut() != tc.wantSampled || p.Off() != tc.wantOff || p.TokenEventsAggregated() != tc.wantAgg {
					t.Errorf("SampledOut %d Off %d TokenEventsAggregated %d, want %d %d %d",
						p.SampledOut(), p.Off(), p.TokenEventsAggregated(), tc.wantSampled, tc.wantOff, tc.wantAgg)
				}
				if p.Dropped() != 0 {
					t.Errorf("Dropped = %d", p.Dropped())
				}
				if got := p.ByType()[secevent.TokenIssued]; got != n {
					t.Errorf("ByType[token.issued] = %d, want %d", got, n)
				}
				switch tc.mode {
				case "", secevent.TokenEventsAggregate:
					var got []string
					for _, r := range volume {
						d := detailOf(t, r)
						if r.Subject != "" || r.IP != "" {
							t.Errorf("an aggregate row names a subject or an address: %+v", r)
						}
						got = append(got, fmt.Sprintf("%s %s %s %s", r.Type, r.ClientID, d["grant_type"], d["count"]))
					}
					sort.Strings(got)
					want := []string{
						fmt.Sprintf("token.introspected gateway  %d", n/10),
					}
					for c := range 3 {
						for _, g := range []string{"client_credentials", "refresh_token"} {
							k := 0
							for i := range n {
								if i%3 == c && (i%2 == 1) == (g == "refresh_token") {
									k++
								}
							}
							want = append(want, fmt.Sprintf("token.issued app%d %s %d", c, g, k))
						}
					}
					sort.Strings(want)
					if fmt.Sprint(got) != fmt.Sprint(want) {
						t.Errorf("aggregate rows:\n got %q\nwant %q", got, want)
					}
					if represented(t, volume) != n+n/10 {
						t.Errorf("the rows stand for %d events, want %d", represented(t, volume), n+n/10)
					}
				case secevent.TokenEventsSample:
					for _, r := range volume {
						if d := detailOf(t, r); d["sampled"] != "1/100" {
							t.Fatalf("a sampled row does not say so: %s", r.Detail)
						}
					}
				}
			})
		})
	}
}

// TestTokenEventsPerWindow: aggregate rows are per window, so a steady
// stream costs one row per client a window, each counting its own window.
func TestTokenEventsPerWindow(t *testing.T) {
	issued := secevent.Event{Type: secevent.TokenIssued, ClientID: "app", Subject: "u", IP: "192.0.2.1",
		Detail: map[string]string{"grant_type": "client_credentials"}}
	rows, p := runBursts(t, secevent.Options{}, []burst{
		{at: time.Second, n: 500, e: issued},
		{at: 61 * time.Second, n: 300, e: issued},
		{at: 62 * time.Second, n: 1, e: secevent.Event{Type: secevent.LoginFailed, IP: "192.0.2.9"}},
	}, 90*time.Second)
	var got []string
	for _, r := range rows {
		got = append(got, describe(t, r))
	}
	want := []string{
		"token.issued ip= client=app subject= count=500 window=0s..1m0s",
		"login.failed ip=192.0.2.9 client= subject=",
		"token.issued ip= client=app subject= count=300 window=1m0s..1m30s",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rows:\n got %q\nwant %q", got, want)
	}
	if p.TokenEventsAggregated() != 800 || p.Emitted() != 1 {
		t.Errorf("TokenEventsAggregated %d Emitted %d", p.TokenEventsAggregated(), p.Emitted())
	}
}

// BenchmarkEmitTokenIssued is the cost of the issuance event on the token
// endpoint's path, in each mode, from many goroutines at once.
func BenchmarkEmitTokenIssued(b *testing.B) {
	for _, mode := range []string{secevent.TokenEventsAggregate, secevent.TokenEventsSample, secevent.TokenEventsOff} {
		b.Run(mode, func(b *testing.B) {
			p := secevent.New(nopSink{}, secevent.Options{TokenEvents: mode})
			go p.Run(b.Context())
			defer p.Close(b.Context())
			detail := map[string]string{"grant_type": "client_credentials"}
			b.ReportAllocs()
			b.SetParallelism(32)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					p.Emit(secevent.Event{Type: secevent.TokenIssued, ClientID: "c", Subject: "s", IP: "192.0.2.1", Detail: detail, Time: t0})
				}
			})
		})
	}
}
