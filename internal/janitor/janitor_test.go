package janitor_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/authd/authd/internal/testenv"

	"github.com/authd/authd/internal/testenv/dbtest"

	"github.com/authd/authd/internal/janitor"
	"github.com/authd/authd/internal/store"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return t0 }

func backends() []struct {
	name string
	open func(tb testing.TB) store.Store
} {
	return []struct {
		name string
		open func(tb testing.TB) store.Store
	}{{"sqlite", openSQLite}, {"postgres", openPostgres}}
}

func openSQLite(tb testing.TB) store.Store {
	tb.Helper()
	return dbtest.SQLite(tb)
}

func openPostgres(tb testing.TB) store.Store {
	tb.Helper()
	return dbtest.Postgres(tb)
}

func sum(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// seed stores n rows of every expiring kind, named prefix-i, expiring at exp.
// Kinds get different counts (n, n+1, ...) so a purge that mixes them up
// shows in the total.
func seed(tb testing.TB, s store.Store, prefix string, n int, exp time.Time) (rows int) {
	tb.Helper()
	ctx := tb.Context()
	must := func(what string, err error) {
		tb.Helper()
		if err != nil {
			tb.Fatalf("seed %s: %v", what, err)
		}
	}
	var tokens []*store.AccessToken
	for i := range n {
		name := fmt.Sprintf("%s-%d", prefix, i)
		tokens = append(tokens, &store.AccessToken{
			Hash: sum("access-" + name), ClientID: "c", Subject: name, Scope: "api",
			IssuedAt: exp.Add(-time.Hour), ExpiresAt: exp.Add(-time.Duration(i) * time.Second),
		})
	}
	must("access tokens", s.CreateAccessTokens(ctx, tokens))
	for i := range n + 1 {
		must("revocation", s.Revoke(ctx, fmt.Sprintf("revocation-%s-%d", prefix, i), exp))
	}
	for i := range n + 2 {
		name := fmt.Sprintf("%s-%d", prefix, i)
		must("auth code", s.CreateAuthCode(ctx, &store.AuthCode{
			Hash: sum("code-" + name), ClientID: "c", RedirectURI: "https://app.example/cb",
			Subject: name, Scope: "openid", GrantID: "grant-code-" + name, AuthTime: exp.Add(-time.Hour), ExpiresAt: exp,
		}))
	}
	for i := range n + 3 {
		name := fmt.Sprintf("%s-%d", prefix, i)
		must("refresh token", s.CreateRefreshToken(ctx, &store.RefreshToken{
			Hash: sum("refresh-" + name), GrantID: "grant-refresh-" + name, ClientID: "c", Subject: name,
			Scope: "openid offline_access", AuthTime: exp.Add(-time.Hour), IssuedAt: exp.Add(-time.Hour), ExpiresAt: exp,
		}))
	}
	for i := range n + 4 {
		name := fmt.Sprintf("%s-%d", prefix, i)
		must("session", s.CreateSession(ctx, &store.Session{
			Hash: sum("session-" + name), Subject: name, AuthTime: exp.Add(-time.Hour), ExpiresAt: exp,
		}))
	}
	return 5*n + 10
}

// present counts which of the rows seed stored under prefix still exist.
func present(tb testing.TB, s store.Store, prefix string, n int) (rows int) {
	tb.Helper()
	ctx := tb.Context()
	found := func(err error) int {
		tb.Helper()
		switch {
		case err == nil:
			return 1
		case errors.Is(err, store.ErrNotFound):
			return 0
		}
		tb.Fatalf("lookup: %v", err)
		return 0
	}
	for i := range n {
		_, err := s.AccessToken(ctx, sum(fmt.Sprintf("access-%s-%d", prefix, i)))
		rows += found(err)
	}
	var ids []string
	for i := range n + 1 {
		ids = append(ids, fmt.Sprintf("revocation-%s-%d", prefix, i))
	}
	revoked, err := s.Revoked(ctx, ids)
	if err != nil {
		tb.Fatalf("Revoked: %v", err)
	}
	rows += len(revoked)
	for i := range n + 2 {
		// Redeeming marks a live code used, which is fine at the end of a test.
		_, err := s.RedeemAuthCode(ctx, sum(fmt.Sprintf("code-%s-%d", prefix, i)), t0)
		rows += found(err)
	}
	for i := range n + 3 {
		_, err := s.RefreshToken(ctx, sum(fmt.Sprintf("refresh-%s-%d", prefix, i)))
		rows += found(err)
	}
	for i := range n + 4 {
		_, err := s.Session(ctx, sum(fmt.Sprintf("session-%s-%d", prefix, i)))
		rows += found(err)
	}
	return rows
}

// countingPurger records every call that reaches the store.
type countingPurger struct {
	janitor.Purger
	mu    sync.Mutex
	calls []call
}

type call struct {
	now         time.Time
	limit, rows int
}

func (c *countingPurger) PurgeExpired(ctx context.Context, now time.Time, limit int) (int, error) {
	n, err := c.Purger.PurgeExpired(ctx, now, limit)
	c.mu.Lock()
	c.calls = append(c.calls, call{now: now, limit: limit, rows: n})
	c.mu.Unlock()
	return n, err
}

func TestRunOnceOnStores(t *testing.T) {
	tests := []struct {
		name      string
		expired   int // per kind, roughly: see seed
		batchSize int
		minCalls  int
	}{
		{"one batch", 10, 1000, 1},
		{"several batches", 25, 4, 4},
		{"batch size one", 3, 1, 3},
	}
	for _, be := range backends() {
		for _, tc := range tests {
			t.Run(be.name+"/"+tc.name, func(t *testing.T) {
				s := be.open(t)
				wantDeleted := seed(t, s, "expired", tc.expired, t0.Add(-time.Minute))
				live := seed(t, s, "live", 5, t0.Add(time.Hour))
				// A row expiring exactly now is not yet expired ("before now").
				edge := seed(t, s, "edge", 1, t0)

				p := &countingPurger{Purger: s}
				j := janitor.New(p, janitor.Options{BatchSize: tc.batchSize, Pause: time.Microsecond, Now: clock})
				deleted, err := j.RunOnce(t.Context())
				if err != nil {
					t.Fatalf("RunOnce: %v", err)
				}
				if deleted != wantDeleted {
					t.Errorf("RunOnce deleted %d rows, want %d", deleted, wantDeleted)
				}
				if n := present(t, s, "expired", tc.expired); n != 0 {
					t.Errorf("%d expired rows survived", n)
				}
				if n := present(t, s, "live", 5); n != live {
					t.Errorf("%d of %d live rows left", n, live)
				}
				if n := present(t, s, "edge", 1); n != edge {
					t.Errorf("%d of %d rows expiring exactly now left", n, edge)
				}

				if len(p.calls) < tc.minCalls {
					t.Errorf("%d PurgeExpired calls, want at least %d (bounded batches)", len(p.calls), tc.minCalls)
				}
				for i, c := range p.calls {
					if c.limit != tc.batchSize || !c.now.Equal(t0) {
						t.Errorf("call %d: limit %d now %v, want %d and %v", i, c.limit, c.now, tc.batchSize, t0)
					}
					if last := i == len(p.calls)-1; last != (c.rows < tc.batchSize) {
						t.Errorf("call %d deleted %d rows (batch %d) but last = %v", i, c.rows, tc.batchSize, last)
					}
				}

				// A second run finds nothing left.
				if deleted, err := j.RunOnce(t.Context()); deleted != 0 || err != nil {
					t.Errorf("second RunOnce = %d, %v; want 0, nil", deleted, err)
				}
			})
		}
	}
}

// scripted is a fake Purger returning a fixed sequence of results.
type scripted struct {
	mu      sync.Mutex
	results []result
	calls   int
	nows    []time.Time
}

type result struct {
	n   int
	err error
}

func (s *scripted) PurgeExpired(_ context.Context, now time.Time, _ int) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nows = append(s.nows, now)
	s.calls++
	if len(s.results) == 0 {
		return 0, nil
	}
	r := s.results[0]
	s.results = s.results[1:]
	return r.n, r.err
}

func (s *scripted) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

var errDown = fmt.Errorf("dial: %w", store.ErrUnavailable)

func TestRunOnceLoop(t *testing.T) {
	tests := []struct {
		name        string
		results     []result
		wantDeleted int
		wantCalls   int
		wantErr     error
	}{
		{"nothing expired", []result{{0, nil}}, 0, 1, nil},
		{"short first batch", []result{{3, nil}}, 3, 1, nil},
		{"full batches then short", []result{{5, nil}, {7, nil}, {5, nil}, {2, nil}}, 19, 4, nil},
		{"full batches then empty", []result{{5, nil}, {5, nil}, {0, nil}}, 10, 3, nil},
		{"error keeps the count so far", []result{{5, nil}, {1, errDown}}, 6, 2, store.ErrUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &scripted{results: tc.results}
			ticks := t0
			j := janitor.New(p, janitor.Options{BatchSize: 5, Pause: -1, Now: func() time.Time {
				ticks = ticks.Add(time.Second) // a clock that moves on every read
				return ticks
			}})
			deleted, err := j.RunOnce(t.Context())
			if deleted != tc.wantDeleted || !errors.Is(err, tc.wantErr) {
				t.Errorf("RunOnce = %d, %v; want %d, %v", deleted, err, tc.wantDeleted, tc.wantErr)
			}
			if p.calls != tc.wantCalls {
				t.Errorf("%d calls, want %d", p.calls, tc.wantCalls)
			}
			for _, now := range p.nows {
				if !now.Equal(p.nows[0]) {
					t.Errorf("calls saw now = %v, want one now per run", p.nows)
					break
				}
			}
		})
	}
}

func TestRunOnceCanceledDuringPause(t *testing.T) {
	p := &scripted{results: []result{{5, nil}, {5, nil}}}
	j := janitor.New(p, janitor.Options{BatchSize: 5, Pause: time.Hour})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	deleted, err := j.RunOnce(ctx)
	if deleted != 5 || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("RunOnce = %d, %v; want 5, DeadlineExceeded", deleted, err)
	}
}

type syncBuffer = testenv.Buffer

func TestRunSurvivesErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &scripted{results: []result{{0, errDown}, {0, errDown}, {3, nil}}}
		var logs syncBuffer
		j := janitor.New(p, janitor.Options{
			Interval: time.Minute,
			Logger:   slog.New(slog.NewJSONHandler(&logs, nil)),
		})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			j.Run(ctx)
			close(done)
		}()
		time.Sleep(4 * time.Minute) // the bubble's clock: the runs fall due meanwhile
		synctest.Wait()
		if n := p.count(); n != 5 {
			t.Fatalf("Run made %d calls in four intervals, want 5 (one at once, one per interval): it stopped after errors", n)
		}
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return after ctx ended")
		}
		out := logs.String()
		if got := strings.Count(out, "purge expired rows failed"); got != 2 {
			t.Errorf("logged %d failures, want 2:\n%s", got, out)
		}
		if !strings.Contains(out, "store: unavailable") || !strings.Contains(out, `"deleted":3`) {
			t.Errorf("log lacks the error or the purge result:\n%s", out)
		}
	})
}

// BenchmarkRunOnce purges 10,000 expired access tokens per op (without the
// pause between batches, so it measures the deletes).
func BenchmarkRunOnce(b *testing.B) {
	const rows = 10_000
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b)
			j := janitor.New(s, janitor.Options{Pause: -1, Now: clock})
			tokens := make([]*store.AccessToken, rows)
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				for k := range tokens {
					tokens[k] = &store.AccessToken{Hash: sum(fmt.Sprint(i, "-", k)), ClientID: "c", Subject: "s",
						IssuedAt: t0.Add(-2 * time.Hour), ExpiresAt: t0.Add(-time.Hour)}
				}
				if err := s.CreateAccessTokens(b.Context(), tokens); err != nil {
					b.Fatalf("seed: %v", err)
				}
				b.StartTimer()
				n, err := j.RunOnce(b.Context())
				if err != nil || n != rows {
					b.Fatalf("RunOnce = %d, %v; want %d", n, err, rows)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
		})
	}
}

func TestAuditRetention(t *testing.T) {
	ctx := context.Background()
	st := openSQLite(t)
	now := time.Now().Truncate(time.Second)
	var evs []*store.AuditEvent
	for i := range 7 {
		evs = append(evs, &store.AuditEvent{Time: now.Add(-time.Duration(i) * 24 * time.Hour), Type: "token.issued"})
	}
	if err := st.AppendAudit(ctx, evs); err != nil {
		t.Fatal(err)
	}
	j := janitor.New(st, janitor.Options{BatchSize: 2, Pause: -1, Now: func() time.Time { return now }, AuditRetention: 72 * time.Hour})
	n, err := j.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	left, err := st.AuditEvents(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	// Days 0-3 stay (day 3 is exactly at the boundary, not older), days 4-6 go.
	if n != 3 || len(left) != 4 {
		t.Fatalf("deleted %d, left %d; want 3 and 4", n, len(left))
	}
	// Without a retention the trail is left alone.
	if n, _ := janitor.New(st, janitor.Options{Now: func() time.Time { return now.Add(1000 * time.Hour) }}).RunOnce(ctx); n != 0 {
		t.Fatalf("no retention, deleted %d", n)
	}
}
