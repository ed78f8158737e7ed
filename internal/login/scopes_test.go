package login

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/internal/store"
	"github.com/authd/authd/internal/testenv/clocktest"
)

// countingScopes reads descriptions from the real store, counting reads;
// fail makes them fail as a store that is down.
type countingScopes struct {
	ScopeDescriber
	calls atomic.Int64
	fail  atomic.Bool
}

func (c *countingScopes) ScopeDescriptions(ctx context.Context) (map[string]string, error) {
	c.calls.Add(1)
	if c.fail.Load() {
		return nil, errors.Join(store.ErrUnavailable, errors.New("injected"))
	}
	return c.ScopeDescriber.ScopeDescriptions(ctx)
}

// consentItems returns the scope lines of a consent page.
func consentItems(t *testing.T, r *response) []string {
	t.Helper()
	wantPage(t, r, http.StatusOK, `action="/consent"`)
	_, list, ok := strings.Cut(r.body, `<ul class="scopes">`)
	list, _, ok2 := strings.Cut(list, "</ul>")
	if !ok || !ok2 {
		t.Fatalf("no scope list:\n%s", r.body)
	}
	var out []string
	for _, li := range strings.Split(list, "<li>")[1:] {
		out = append(out, strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(li), "</li>")))
	}
	return out
}

// TestConsentScopeDescriptions: the consent page describes each scope: an
// operator's description, else the built-in one, else its name; the
// descriptions are read from the store at most once per scopeCacheTTL.
func TestConsentScopeDescriptions(t *testing.T) {
	var scopes *countingScopes
	e := newEnvWith(t, testIssuer, func(d *Deps) {
		scopes = &countingScopes{ScopeDescriber: d.Clients.(ScopeDescriber)}
		d.Scopes = scopes
	})
	ctx := context.Background()
	if err := e.db.SetScopeDescription(ctx, "api", "Read & change your <projects>", e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	e.signIn(e.client)
	params := authParams("web", "scope", "openid api email profile")

	got := consentItems(t, e.authorize(e.client, params))
	want := []string{"Confirm who you are", "Read &amp; change your &lt;projects&gt;", "See your email address", "See your username"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("consent lists %q, want %q", got, want)
	}
	consentItems(t, e.authorize(e.client, params))
	if n := scopes.calls.Load(); n != 1 {
		t.Errorf("%d store reads for two consent pages, want 1", n)
	}

	// A change (an operator's override of a built-in one, too) shows once
	// the cached descriptions expire, not before.
	if err := e.db.SetScopeDescription(ctx, "api", "Use the API", e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := e.db.SetScopeDescription(ctx, "email", "Voir votre adresse", e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if got := consentItems(t, e.authorize(e.client, params)); got[1] != "Read &amp; change your &lt;projects&gt;" {
		t.Errorf("within the cache lifetime: %q", got)
	}
	e.clock.Advance(scopeCacheTTL)
	got = consentItems(t, e.authorize(e.client, params))
	if got[1] != "Use the API" || got[2] != "Voir votre adresse" {
		t.Errorf("after the cache lifetime: %q", got)
	}
	if err := e.db.DeleteScopeDescription(ctx, "api"); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(scopeCacheTTL)
	if got := consentItems(t, e.authorize(e.client, params)); got[1] != "Use the permission “api”" {
		t.Errorf("after deletion: %q", got)
	}

	// A store that is down costs the descriptions it had (kept), not the page,
	// and is not asked again by every page.
	e.clock.Advance(scopeCacheTTL)
	scopes.fail.Store(true)
	before := scopes.calls.Load()
	for range 3 {
		if got := consentItems(t, e.authorize(e.client, params)); got[2] != "Voir votre adresse" {
			t.Errorf("store down: %q", got)
		}
	}
	if n := scopes.calls.Load() - before; n != 1 {
		t.Errorf("%d store reads while it is down, want 1", n)
	}
	if !strings.Contains(e.logs.String(), "read scope descriptions") {
		t.Error("failed read not logged")
	}
	scopes.fail.Store(false)
	e.clock.Advance(scopeRetryAfter)
	consentItems(t, e.authorize(e.client, params))
	if n := scopes.calls.Load() - before; n != 2 {
		t.Errorf("%d store reads after it is back, want 2", n)
	}
}

// blockingScopes holds every read until release is closed.
type blockingScopes struct {
	calls   atomic.Int64
	started chan struct{}
	release chan struct{}
	m       map[string]string
}

func (b *blockingScopes) ScopeDescriptions(ctx context.Context) (map[string]string, error) {
	if b.calls.Add(1) == 1 {
		close(b.started)
	}
	<-b.release
	return b.m, nil
}

// TestScopeCacheOneRead: concurrent pages share one read of the store; the
// first ones wait for it, and later ones use the stale descriptions while it
// is refreshed.
func TestScopeCacheOneRead(t *testing.T) {
	clk := clocktest.New(time.Unix(1_800_000_000, 0))
	src := &blockingScopes{started: make(chan struct{}), release: make(chan struct{}), m: map[string]string{"api": "v1"}}
	c := newScopeTexts(src, time.Minute, clk.Now)
	log := newEnv(t, testIssuer).h.log

	const n = 8
	results := make(chan string, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { results <- c.get(context.Background(), log)["api"] })
	}
	<-src.started
	close(src.release)
	wg.Wait()
	close(results)
	for r := range results {
		if r != "v1" {
			t.Errorf("a waiter got %q", r)
		}
	}
	if got := src.calls.Load(); got != 1 {
		t.Fatalf("%d reads for %d concurrent callers", got, n)
	}

	// Stale: one caller refreshes, the others answer at once with v1.
	clk.Advance(time.Minute)
	src.started, src.release = make(chan struct{}), make(chan struct{})
	src.calls.Store(0)
	src.m = map[string]string{"api": "v2"}
	refreshed := make(chan string)
	go func() { refreshed <- c.get(context.Background(), log)["api"] }()
	<-src.started
	for range 3 {
		if got := c.get(context.Background(), log)["api"]; got != "v1" {
			t.Errorf("during a refresh: %q, want the stale v1", got)
		}
	}
	close(src.release)
	if got := <-refreshed; got != "v2" {
		t.Errorf("refresh returned %q", got)
	}
	if got := c.get(context.Background(), log)["api"]; got != "v2" || src.calls.Load() != 1 {
		t.Errorf("after the refresh: %q, %d reads", got, src.calls.Load())
	}
}
