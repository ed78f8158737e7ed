package secevent_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/internal/testenv"

	"github.com/authd/authd/internal/testenv/dbtest"

	"github.com/authd/authd/internal/secevent"
	"github.com/authd/authd/internal/store"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// auditStore is the slice of the store these tests use.
type auditStore interface {
	secevent.Sink
	AuditEvents(ctx context.Context, limit int) ([]*store.AuditEvent, error)
}

func openSQLite(tb testing.TB) auditStore {
	tb.Helper()
	return dbtest.SQLite(tb)
}

func openPostgres(tb testing.TB) auditStore {
	tb.Helper()
	return dbtest.Postgres(tb)
}

// countingSink counts the calls and events that reach the wrapped sink.
type countingSink struct {
	secevent.Sink
	calls, events atomic.Int64
}

func (c *countingSink) AppendAudit(ctx context.Context, events []*store.AuditEvent) error {
	c.calls.Add(1)
	c.events.Add(int64(len(events)))
	return c.Sink.AppendAudit(ctx, events)
}

// memorySink is a fake sink that keeps copies of what it is given and can
// fail on command.
type memorySink struct {
	mu     sync.Mutex
	events []store.AuditEvent
	calls  int
	fail   func(call int) error // nil: never fails
}

func (m *memorySink) AppendAudit(_ context.Context, events []*store.AuditEvent) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.fail != nil {
		if err := m.fail(m.calls); err != nil {
			return err
		}
	}
	for _, e := range events {
		m.events = append(m.events, *e)
	}
	return nil
}

func (m *memorySink) snapshot() []store.AuditEvent {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]store.AuditEvent(nil), m.events...)
}

// stuckSink blocks every call until release is closed, ignoring its context,
// like a database that hangs.
type stuckSink struct {
	release chan struct{}
	memorySink
}

func (s *stuckSink) AppendAudit(ctx context.Context, events []*store.AuditEvent) error {
	<-s.release
	return s.memorySink.AppendAudit(ctx, events)
}

type logBuffer = testenv.Buffer

// logger logs JSON into b, which the test may read while the pipeline writes.
func logger(b *logBuffer) *slog.Logger { return slog.New(slog.NewJSONHandler(b, nil)) }

// start runs p until the test ends.
func start(t *testing.T, p *secevent.Pipeline) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		p.Run(ctx)
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

func closeWithin(t *testing.T, p *secevent.Pipeline, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	if err := p.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// event is the i-th of a stream of events that are each written as a row.
// (A refusal such as login.failed would be aggregated; aggregate_test.go
// covers those.)
func event(i int) secevent.Event {
	return secevent.Event{
		Type:     secevent.TokenRevoked,
		ClientID: "client-" + fmt.Sprint(i%3),
		Subject:  fmt.Sprintf("subject-%d", i),
		IP:       "192.0.2." + fmt.Sprint(i%250),
		Detail:   map[string]string{"reason": "bad password", "n": fmt.Sprint(i)},
		Time:     t0.Add(time.Duration(i) * time.Millisecond),
	}
}

func TestEmitNeverBlocks(t *testing.T) {
	const n = 20_000
	sink := &stuckSink{release: make(chan struct{})}
	var logs logBuffer
	p := secevent.New(sink, secevent.Options{FlushEvery: time.Millisecond, Logger: logger(&logs)})
	start(t, p)

	emitted := make(chan time.Duration)
	go func() {
		begin := time.Now()
		for i := range n {
			p.Emit(event(i))
		}
		emitted <- time.Since(begin)
	}()
	select {
	case d := <-emitted:
		t.Logf("%d Emits against a stuck sink took %v", n, d)
	case <-time.After(10 * time.Second):
		t.Fatal("Emit blocked while the sink was stuck")
	}

	if p.Dropped() == 0 {
		t.Error("Dropped = 0 with a stuck sink and more events than the queue holds")
	}
	if got := p.Emitted() + p.Dropped(); got != n {
		t.Errorf("Emitted %d + Dropped %d = %d, want %d", p.Emitted(), p.Dropped(), got, n)
	}
	// The queue plus the one batch Run took before the sink stuck.
	if limit := uint64(secevent.DefaultQueueSize + secevent.DefaultMaxBatch); p.Emitted() > limit {
		t.Errorf("Emitted = %d, more than the queue and one batch (%d)", p.Emitted(), limit)
	}

	close(sink.release)
	closeWithin(t, p, 10*time.Second)
	if p.Written() != p.Emitted() {
		t.Errorf("Written = %d, want every accepted event (%d)", p.Written(), p.Emitted())
	}
	if !strings.Contains(logs.String(), "events dropped") {
		t.Errorf("drops were not logged:\n%.500s", logs.String())
	}
}

// TestCloseFlushesToStores: a graceful Close writes everything queued, even
// events that would otherwise wait for the next flush, in batches.
func TestCloseFlushesToStores(t *testing.T) {
	const n = 250
	for _, be := range []struct {
		name string
		open func(testing.TB) auditStore
	}{{"sqlite", openSQLite}, {"postgres", openPostgres}} {
		t.Run(be.name, func(t *testing.T) {
			st := be.open(t)
			sink := &countingSink{Sink: st}
			p := secevent.New(sink, secevent.Options{MaxBatch: 100, FlushEvery: time.Hour})
			start(t, p)
			for i := range n {
				p.Emit(event(i))
			}
			closeWithin(t, p, 10*time.Second)

			if got := sink.calls.Load(); got != 3 {
				t.Errorf("%d sink calls for %d events in batches of 100, want 3", got, n)
			}
			if p.Written() != n || p.Dropped() != 0 || p.WriteErrors() != 0 {
				t.Errorf("Written %d Dropped %d WriteErrors %d, want %d, 0, 0", p.Written(), p.Dropped(), p.WriteErrors(), n)
			}
			stored, err := st.AuditEvents(t.Context(), 2*n)
			if err != nil {
				t.Fatalf("AuditEvents: %v", err)
			}
			if len(stored) != n {
				t.Fatalf("stored %d events, want %d", len(stored), n)
			}
			// Newest first, and every event has a distinct time.
			for k, got := range stored {
				want := event(n - 1 - k)
				var detail map[string]string
				if err := json.Unmarshal([]byte(got.Detail), &detail); err != nil {
					t.Fatalf("event %d: Detail %q is not a JSON object: %v", k, got.Detail, err)
				}
				if got.Type != want.Type || got.ClientID != want.ClientID || got.Subject != want.Subject ||
					got.IP != want.IP || !got.Time.Equal(want.Time) || !maps.Equal(detail, want.Detail) {
					t.Errorf("stored %+v, want %+v", got, want)
				}
			}
		})
	}
}

// TestSinkErrorsAreCountedNotFatal: a batch the store rejects is given up at
// once (a retry cannot help), counted and logged, and the pipeline goes on.
// Failures that may pass are retried: retry_test.go.
func TestSinkErrorsAreCountedNotFatal(t *testing.T) {
	errRejected := errors.New("store: rejected")
	sink := &memorySink{fail: func(call int) error {
		if call <= 2 {
			return fmt.Errorf("append audit: %w", errRejected)
		}
		return nil
	}}
	var logs logBuffer
	// Only full batches are written before Close, so the call order is fixed.
	p := secevent.New(sink, secevent.Options{MaxBatch: 5, FlushEvery: time.Hour, Logger: logger(&logs)})
	start(t, p)
	for i := range 18 {
		p.Emit(event(i))
	}
	closeWithin(t, p, 5*time.Second)

	if p.WriteErrors() != 2 || p.Written() != 8 || p.Emitted() != 18 {
		t.Errorf("WriteErrors %d Written %d Emitted %d, want 2, 8, 18", p.WriteErrors(), p.Written(), p.Emitted())
	}
	if p.Lost() != 10 || p.WriteRetries() != 0 {
		t.Errorf("Lost %d WriteRetries %d, want 10, 0", p.Lost(), p.WriteRetries())
	}
	out := logs.String()
	if got := strings.Count(out, "audit write failed"); got != 2 {
		t.Errorf("logged %d write failures, want 2:\n%s", got, out)
	}
	if !strings.Contains(out, `"events":5`) || !strings.Contains(out, "store: rejected") {
		t.Errorf("failure log lacks the lost count or the error:\n%s", out)
	}
}

func TestDetailEncoding(t *testing.T) {
	tests := []struct {
		name   string
		detail map[string]string
		want   string
	}{
		{"nil", nil, `{}`},
		{"empty", map[string]string{}, `{}`},
		{"sorted keys", map[string]string{"scope": "openid", "grant_type": "client_credentials"},
			`{"grant_type":"client_credentials","scope":"openid"}`},
		{"escaped", map[string]string{"reason": "quote \" and <tag> and é"},
			`{"reason":"quote \" and \u003ctag\u003e and é"}`},
		{"secrets redacted", map[string]string{"client_secret": "s3cr3t", "token": "abc", "reason": "x"},
			`{"client_secret":"[redacted]","reason":"x","token":"[redacted]"}`},
	}
	sink := &memorySink{}
	p := secevent.New(sink, secevent.Options{})
	for _, tc := range tests {
		p.Emit(secevent.Event{Type: secevent.TokenRevoked, Subject: tc.name, Detail: tc.detail, Time: t0})
	}
	closeWithin(t, p, 5*time.Second) // Close without Run writes the queue itself
	got := map[string]string{}
	for _, e := range sink.snapshot() {
		got[e.Subject] = e.Detail
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got[tc.name] != tc.want {
				t.Errorf("Detail = %s, want %s", got[tc.name], tc.want)
			}
		})
	}
	if secrets := tests[len(tests)-1].detail; secrets["token"] != "abc" || secrets["client_secret"] != "s3cr3t" {
		t.Errorf("redaction modified the caller's map: %v", secrets)
	}
}

func TestEmitStampsTime(t *testing.T) {
	sink := &memorySink{}
	p := secevent.New(sink, secevent.Options{Now: func() time.Time { return t0 }})
	p.Emit(secevent.Event{Type: secevent.LoginSucceeded})
	p.Emit(secevent.Event{Type: secevent.LoginSucceeded, Time: t0.Add(time.Hour)})
	closeWithin(t, p, 5*time.Second)
	got := sink.snapshot()
	if len(got) != 2 || !got[0].Time.Equal(t0) || !got[1].Time.Equal(t0.Add(time.Hour)) {
		t.Errorf("events = %+v, want times %v and %v", got, t0, t0.Add(time.Hour))
	}
}

func TestLifecycle(t *testing.T) {
	tests := []struct {
		name string
		stop func(t *testing.T, p *secevent.Pipeline, cancel context.CancelFunc, runDone <-chan struct{})
	}{
		{"Close while running", func(t *testing.T, p *secevent.Pipeline, _ context.CancelFunc, runDone <-chan struct{}) {
			closeWithin(t, p, 5*time.Second)
			<-runDone
		}},
		{"Run's ctx ends", func(t *testing.T, p *secevent.Pipeline, cancel context.CancelFunc, runDone <-chan struct{}) {
			cancel()
			<-runDone
			closeWithin(t, p, 5*time.Second) // still safe, and nothing left to do
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink := &memorySink{}
			p := secevent.New(sink, secevent.Options{FlushEvery: time.Hour})
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			runDone := make(chan struct{})
			go func() {
				p.Run(ctx)
				close(runDone)
			}()
			for i := range 42 {
				p.Emit(event(i))
			}
			tc.stop(t, p, cancel, runDone)
			if n := len(sink.snapshot()); n != 42 || p.Written() != 42 {
				t.Errorf("wrote %d (Written %d), want all 42 queued", n, p.Written())
			}
			p.Emit(event(99))
			if p.Dropped() != 1 {
				t.Errorf("Emit after shutdown: Dropped = %d, want 1", p.Dropped())
			}
			p.Run(t.Context()) // a Run after shutdown returns at once
		})
	}
}

func TestCloseGivesUpOnStuckSink(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	sink := &stuckSink{release: release}
	p := secevent.New(sink, secevent.Options{MaxBatch: 1})
	start(t, p)
	p.Emit(event(1))
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if err := p.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close with a stuck sink = %v, want DeadlineExceeded", err)
	}
}

func TestConcurrentEmitAndClose(t *testing.T) {
	const emitters = 50
	sink := &memorySink{}
	p := secevent.New(sink, secevent.Options{QueueSize: 100, MaxBatch: 10, FlushEvery: time.Millisecond})
	start(t, p)
	var (
		wg     sync.WaitGroup
		ready  sync.WaitGroup // every emitter has emitted once
		calls  atomic.Uint64
		begin  = make(chan struct{}) // Close is about to be called
		closed = make(chan struct{}) // Close has returned
	)
	ready.Add(emitters)
	for g := range emitters {
		wg.Go(func() {
			emit := func(i int) {
				p.Emit(event(g*1_000_000 + i))
				calls.Add(1)
			}
			emit(0)
			ready.Done()
			<-begin
			// Emit all the while Close runs, and once after it returned.
			for i := 1; ; i++ {
				select {
				case <-closed:
					emit(i)
					return
				default:
				}
				emit(i)
				runtime.Gosched() // a spinning emitter must not starve Close
			}
		})
	}
	stop := sync.OnceFunc(func() { close(closed) })
	defer stop() // even if Close fails, the emitters end
	ready.Wait()
	close(begin)
	closeWithin(t, p, 5*time.Second) // while every emitter is still going
	stop()
	wg.Wait()
	if n := calls.Load(); p.Emitted()+p.Dropped() != n {
		t.Errorf("Emitted %d + Dropped %d != %d", p.Emitted(), p.Dropped(), n)
	}
	if got := uint64(len(sink.snapshot())); got != p.Emitted() || p.Written() != got {
		t.Errorf("sink has %d events, Written %d, Emitted %d: accepted events were lost", got, p.Written(), p.Emitted())
	}
}

type nopSink struct{}

func (nopSink) AppendAudit(context.Context, []*store.AuditEvent) error { return nil }

// Discard is what components given no pipeline emit into, on hot paths:
// it must cost nothing.
func TestDiscard(t *testing.T) {
	var e secevent.Emitter = secevent.Discard{}
	ev := secevent.Event{Type: secevent.TokenRevoked, ClientID: "c", Detail: map[string]string{"k": "v"}}
	if n := testing.AllocsPerRun(100, func() { e.Emit(ev) }); n != 0 {
		t.Fatalf("Discard.Emit allocates %.0f times", n)
	}
}

// BenchmarkEmit is the cost a request pays per event.
func BenchmarkEmit(b *testing.B) {
	p := secevent.New(nopSink{}, secevent.Options{})
	go p.Run(b.Context())
	defer p.Close(context.Background())
	e := secevent.Event{Type: secevent.TokenRevoked, ClientID: "c", Subject: "s", IP: "192.0.2.1",
		Detail: map[string]string{"grant_type": "client_credentials"}, Time: t0}
	b.ReportAllocs()
	b.SetParallelism(32)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p.Emit(e)
		}
	})
	// A flood outruns any sink, so most of these are drops: the point is
	// that neither path costs the caller more than a few tens of ns.
	b.ReportMetric(float64(p.Dropped())/float64(p.Emitted()+p.Dropped()), "dropped/op")
}

// BenchmarkEmitRefusal is the cost of an attacker-triggerable refusal, the
// event a flood produces: from one source (every Emit hits the same
// aggregation key) and from a botnet (a new address nearly every time).
func BenchmarkEmitRefusal(b *testing.B) {
	for _, bc := range []struct {
		name    string
		sources int
		format  string
	}{
		{"one source", 1, "2001:db8:%x:%x::1"},
		{"many sources", 1 << 16, "2001:db8:%x:%x::1"},
		{"one IPv4 source", 1, "10.0.%d.%d"},
		{"many IPv4 sources", 1 << 16, "10.0.%d.%d"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ips := make([]string, bc.sources)
			for i := range ips {
				ips[i] = fmt.Sprintf(bc.format, i>>8, i&0xff)
			}
			p := secevent.New(nopSink{}, secevent.Options{})
			go p.Run(b.Context())
			defer p.Close(context.Background())
			// One Detail for every Emit: the pipeline only reads it, and the
			// figure should be the pipeline's cost, not the caller's map.
			detail := map[string]string{"limit": "per_ip"}
			var next atomic.Uint64
			b.ReportAllocs()
			b.SetParallelism(32)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := next.Add(1)
					p.Emit(secevent.Event{Type: secevent.RateLimitExceeded, IP: ips[i%uint64(len(ips))],
						Detail: detail, Time: t0})
				}
			})
		})
	}
}
