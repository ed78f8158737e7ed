package account

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/authd/authd/internal/password"
	"github.com/authd/authd/internal/store"
	"github.com/authd/authd/internal/testenv/dbtest"
)

var censusKey = []byte("0123456789abcdef0123456789abcdef")

// TestDecoyUsesPopulation: after the Argon2 parameters change, an unknown
// username, a malformed one and an account with an unusable hash are
// verified at parameters the stored hashes have, not at the new ones no
// stored hash has yet.
func TestDecoyUsesPopulation(t *testing.T) {
	old := tinyParams
	current := password.Params{Memory: 128, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
	older := password.Params{Memory: 32, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	tests := []struct {
		name       string
		population map[password.Params]int // users created at each
		wantOneOf  []password.Params
	}{
		{"everyone on the old params", map[password.Params]int{old: 3}, []password.Params{old}},
		{"two generations", map[password.Params]int{old: 2, older: 2}, []password.Params{old, older}},
		{"mixed with current", map[password.Params]int{old: 1, current: 1}, []password.Params{old, current}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, old)
			ctx := context.Background()
			n := 0
			for p, count := range tc.population {
				svc := f.service(p)
				for range count {
					if _, err := svc.Create(ctx, fmt.Sprintf("user%d", n), goodPassword, ""); err != nil {
						t.Fatal(err)
					}
					n++
				}
			}
			corrupt, err := f.service(old).Create(ctx, "corrupt", goodPassword, "")
			if err != nil {
				t.Fatal(err)
			}
			if err := f.db.SetPasswordHash(ctx, corrupt.ID, "not a phc string", f.now); err != nil {
				t.Fatal(err)
			}
			// The operator raises the cost.
			svc := f.service(current)
			if err := svc.RefreshCensus(ctx, f.db, censusKey); err != nil {
				t.Fatal(err)
			}
			seen := map[password.Params]bool{}
			for i := range 200 {
				for _, name := range []string{fmt.Sprintf("nobody%d", i), fmt.Sprintf("no body %d", i)} {
					if _, err := svc.Authenticate(ctx, name, goodPassword); !errors.Is(err, ErrInvalidCredentials) {
						t.Fatalf("%q: %v", name, err)
					}
				}
			}
			if _, err := svc.Authenticate(ctx, "corrupt", goodPassword); !errors.Is(err, ErrInvalidCredentials) {
				t.Fatal(err)
			}
			got := f.spy.takeDecoyParams()
			if len(got) != 401 {
				t.Fatalf("%d decoy verifications, want 401", len(got))
			}
			for _, p := range got {
				if !slices.Contains(tc.wantOneOf, p) {
					t.Fatalf("decoy at %+v, want one of %+v", p, tc.wantOneOf)
				}
				seen[p] = true
			}
			if len(seen) != len(tc.wantOneOf) {
				t.Errorf("decoys used %d of the %d groups", len(seen), len(tc.wantOneOf))
			}
			// The unusable hash costs what its name would cost if unknown.
			if want := f.spy.Hasher.DecoyParams("corrupt"); got[len(got)-1] != want {
				t.Errorf("corrupt hash decoy at %+v, want %+v", got[len(got)-1], want)
			}
		})
	}
}

// TestDecoyTimingMatches measures the leak itself: a wrong password for a
// user still on old parameters and an unknown name must take the same time,
// within 10%. The two are measured alternately, so slow drift in the
// machine's load falls on both alike, and compared at a low quantile of each:
// interference from other work only ever adds time, so the fast end of each
// distribution is the cost of the work itself, where the median moves with
// whatever else shares the cores. When a round is inconclusive more are
// measured and the quantile taken over all of them. Without the census the
// unknown name costs the new parameters: 8 times the work.
func TestDecoyTimingMatches(t *testing.T) {
	if testing.Short() {
		t.Skip("measures Argon2id timing")
	}
	const tolerance = 0.10
	svc, name := decoyBench(t)
	var known, unknown []time.Duration
	for range 5 {
		m := measureDecoy(t, svc, name, 61)
		known, unknown = append(known, m.knownAll...), append(unknown, m.unknownAll...)
		k, u := quantile(known, 0.2), quantile(unknown, 0.2)
		ratio := float64(u) / float64(k)
		t.Logf("medians: known user on old params %v, unknown name %v; 20th percentiles over %d pairs: %v, %v, ratio %.3f (median pair ratio %.3f)",
			m.known, m.unknown, len(known), k, u, ratio, m.ratio)
		if ratio > 1-tolerance && ratio < 1+tolerance {
			return
		}
	}
	t.Fatalf("unknown/known time ratio %.3f over %d pairs, want within %.0f%% of 1",
		float64(quantile(unknown, 0.2))/float64(quantile(known, 0.2)), len(known), tolerance*100)
}

func quantile(d []time.Duration, q float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1))]
}

func medianOf(r []float64) float64 {
	s := slices.Clone(r)
	slices.Sort(s)
	return s[len(s)/2]
}

// decoyBench sets up a store whose users are on old parameters and a
// service whose hasher has moved on to dearer ones, with the census taken.
func decoyBench(tb testing.TB) (svc *Service, knownName string) {
	tb.Helper()
	// Large enough that Argon2 dominates the fixed cost of a call (a store
	// read, about 0.1 ms), which is not what this measures; on a loaded
	// machine that fixed cost varies most.
	old := password.Params{Memory: 4096, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	current := password.Params{Memory: 8192, Time: 4, Threads: 1, SaltLen: 16, KeyLen: 32}
	db := dbtest.SQLite(tb)
	ctx := context.Background()
	before := New(db, password.New(old, password.Limits{}), password.Policy{}, Options{})
	for i := range 4 {
		if _, err := before.Create(ctx, fmt.Sprintf("user%d", i), goodPassword, ""); err != nil {
			tb.Fatal(err)
		}
	}
	svc = New(db, password.New(current, password.Limits{}), password.Policy{}, Options{})
	if err := svc.RefreshCensus(ctx, db, censusKey); err != nil {
		tb.Fatal(err)
	}
	return svc, "user0"
}

type decoyMedians struct {
	known, unknown time.Duration
	ratio          float64   // median of ratios
	ratios         []float64 // unknown/known of each adjacent pair
	knownAll       []time.Duration
	unknownAll     []time.Duration
}

// measureDecoy times n pairs of failed Authenticate calls.
func measureDecoy(tb testing.TB, svc *Service, name string, n int) decoyMedians {
	tb.Helper()
	ctx := context.Background()
	one := func(username string) time.Duration {
		start := time.Now()
		if _, err := svc.Authenticate(ctx, username, "wrong horse battery staple"); !errors.Is(err, ErrInvalidCredentials) {
			tb.Fatal(err)
		}
		return time.Since(start)
	}
	// Warm up both paths (page faults of the first Argon2 allocations).
	one(name)
	one("nobody")
	k := make([]time.Duration, n)
	u := make([]time.Duration, n)
	r := make([]float64, n)
	for i := range n {
		unknown := fmt.Sprintf("nobody%d", i)
		if i%2 == 0 {
			k[i] = one(name)
			u[i] = one(unknown)
		} else {
			u[i] = one(unknown)
			k[i] = one(name)
		}
		r[i] = float64(u[i]) / float64(k[i])
	}
	slices.Sort(k)
	slices.Sort(u)
	return decoyMedians{known: k[n/2], unknown: u[n/2], ratio: medianOf(r), ratios: r, knownAll: k, unknownAll: u}
}

// BenchmarkDecoyTiming reports the two medians and the median ratio of
// adjacent pairs (1.0 is no leak), over every pair the benchmark timed:
//
//	go test ./internal/account/ -run '^$' -bench DecoyTiming
func BenchmarkDecoyTiming(b *testing.B) {
	svc, name := decoyBench(b)
	var known, unknown []time.Duration
	var ratios []float64
	for b.Loop() {
		m := measureDecoy(b, svc, name, 21)
		known, unknown = append(known, m.known), append(unknown, m.unknown)
		ratios = append(ratios, m.ratios...)
	}
	slices.Sort(known)
	slices.Sort(unknown)
	b.ReportMetric(float64(known[len(known)/2].Microseconds())/1000, "known-ms")
	b.ReportMetric(float64(unknown[len(unknown)/2].Microseconds())/1000, "unknown-ms")
	b.ReportMetric(medianOf(ratios), "unknown/known")
}

// countingLister counts ListUsers calls and fails while failing is set.
type countingLister struct {
	UserLister
	calls   atomic.Int64
	failing atomic.Bool
}

func (l *countingLister) ListUsers(ctx context.Context) ([]*store.User, error) {
	l.calls.Add(1)
	if l.failing.Load() {
		return nil, errors.Join(store.ErrUnavailable, errors.New("injected"))
	}
	return l.UserLister.ListUsers(ctx)
}

// TestRunCensus: the census is refreshed every interval; a failed refresh
// keeps the last one; the loop ends with its context.
func TestRunCensus(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, tinyParams)
		ctx := context.Background()
		if _, err := f.svc.Create(ctx, "alice", goodPassword, ""); err != nil {
			t.Fatal(err)
		}
		current := password.Params{Memory: 128, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
		svc := f.service(current)
		l := &countingLister{UserLister: f.db}
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { svc.RunCensus(runCtx, l, censusKey, time.Minute); close(done) }()
		synctest.Wait()
		if n := l.calls.Load(); n != 0 {
			t.Fatalf("%d refreshes before the first interval, want 0 (serve takes the first one)", n)
		}
		if p := f.spy.Hasher.DecoyParams("nobody"); p != current {
			t.Fatalf("decoy at %+v with no census, want %+v", p, current)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if n := l.calls.Load(); n != 1 {
			t.Fatalf("%d refreshes after one interval, want 1", n)
		}
		if p := f.spy.Hasher.DecoyParams("nobody"); p != tinyParams {
			t.Fatalf("decoy at %+v after the census, want %+v", p, tinyParams)
		}
		l.failing.Store(true)
		time.Sleep(time.Minute)
		synctest.Wait()
		if n := l.calls.Load(); n != 2 {
			t.Fatalf("%d refreshes after two intervals, want 2", n)
		}
		if p := f.spy.Hasher.DecoyParams("nobody"); p != tinyParams {
			t.Fatalf("a failed refresh dropped the census: decoy at %+v", p)
		}
		stop()
		<-done
	})
}
