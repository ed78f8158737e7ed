package logoutnotify_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/authd/authd/internal/keys"
	"github.com/authd/authd/internal/logoutnotify"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/outbound"
	"github.com/authd/authd/internal/store"
	"github.com/authd/authd/internal/testenv/clocktest"
	"github.com/authd/authd/internal/testenv/dbtest"
	"github.com/authd/authd/internal/testenv/metrictest"
)

const issuer = "https://authd.example"

var start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// signer signs with one ES256 key and remembers the purposes asked for.
type signer struct {
	key      *ecdsa.PrivateKey
	mu       sync.Mutex
	purposes []string
}

func (s *signer) Sign(purpose, typ string, payload []byte) (string, error) {
	s.mu.Lock()
	s.purposes = append(s.purposes, purpose)
	s.mu.Unlock()
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: s.key},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
	if err != nil {
		return "", err
	}
	jws, err := sig.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// poster records deliveries and answers with the next status of its script
// (the last one repeats).
type poster struct {
	mu       sync.Mutex
	statuses []int
	posts    []post
}

type post struct{ url, token string }

func (p *poster) Post(_ context.Context, rawURL string, form url.Values) (*outbound.Response, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.posts = append(p.posts, post{rawURL, form.Get("logout_token")})
	s := p.statuses[0]
	if len(p.statuses) > 1 {
		p.statuses = p.statuses[1:]
	}
	return &outbound.Response{Status: s}, nil
}

func (p *poster) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.posts)
}

type fixture struct {
	reg  *prometheus.Registry
	st   store.Store
	clk  *clocktest.Clock
	sig  *signer
	post *poster
	n    *logoutnotify.Notifier
}

func newFixture(t *testing.T, statuses ...int) *fixture {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{reg: prometheus.NewRegistry(), st: dbtest.SQLite(t), clk: clocktest.New(start), sig: &signer{key: key}, post: &poster{statuses: statuses}}
	f.n, err = logoutnotify.New(f.st, f.st, f.sig, f.post, logoutnotify.Options{
		Issuer: issuer, Now: f.clk.Now, Logger: slog.New(slog.DiscardHandler), BaseDelay: 10 * time.Second, MaxDelay: time.Minute, MaxAge: time.Hour,
		Registerer: f.reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*oauth.Client{
		{ID: "back", Metadata: oauth.ClientMetadata{BackchannelLogoutURI: "https://back.example/logout",
			BackchannelLogoutSessionRequired: true}},
		{ID: "front", Metadata: oauth.ClientMetadata{FrontchannelLogoutURI: "https://front.example/fc?a=1",
			FrontchannelLogoutSessionRequired: true}},
		{ID: "both", Metadata: oauth.ClientMetadata{BackchannelLogoutURI: "https://both.example/bc",
			FrontchannelLogoutURI: "https://both.example/fc"}},
		{ID: "none"},
	} {
		c.CreatedAt, c.UpdatedAt = start, start
		if err := f.st.CreateClient(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func (f *fixture) join(t *testing.T, session, subject string, clients ...string) string {
	t.Helper()
	var sid string
	for _, c := range clients {
		var err error
		if sid, err = f.n.Joined(t.Context(), hash(session), subject, c, start.Add(12*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	return sid
}

func (f *fixture) deliver(t *testing.T) int {
	t.Helper()
	n, err := f.n.DeliverDue(t.Context())
	if err != nil {
		t.Fatalf("DeliverDue: %v", err)
	}
	return n
}

// TestLogoutToken: what is POSTed is a logout token as Back-Channel Logout
// §2.4 demands, signed with the id_token key, typed logout+jwt.
func TestLogoutToken(t *testing.T) {
	f := newFixture(t, 200)
	sid := f.join(t, "cookie", "alice", "back", "front", "none")
	if sid != logoutnotify.SessionID(hash("cookie")) || sid == "" || strings.Contains(sid, "cookie") {
		t.Fatalf("sid %q", sid)
	}
	front, err := f.n.SessionEnding(t.Context(), "alice", hash("cookie"))
	if err != nil {
		t.Fatal(err)
	}
	// Front-Channel §3: iss and sid for the client that asked for them, added to its query.
	want := []logoutnotify.FrontChannel{{URL: "https://front.example/fc?a=1&iss=" + url.QueryEscape(issuer) + "&sid=" + sid,
		Origin: "https://front.example"}}
	if !slices.Equal(front, want) {
		t.Fatalf("front channel %+v, want %+v", front, want)
	}
	f.clk.Advance(3 * time.Second)
	if n := f.deliver(t); n != 1 {
		t.Fatalf("delivered %d, want 1", n)
	}
	p := f.post.posts[0]
	if p.url != "https://back.example/logout" {
		t.Fatalf("posted to %s", p.url)
	}
	jws, err := jose.ParseSignedCompact(p.token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	if typ := jws.Signatures[0].Header.ExtraHeaders["typ"]; typ != "logout+jwt" {
		t.Fatalf("typ %v", typ)
	}
	payload, err := jws.Verify(&f.sig.key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	now := start.Add(3 * time.Second).Unix()
	for k, v := range map[string]any{"iss": issuer, "aud": "back", "sub": "alice", "sid": sid,
		"iat": float64(now), "exp": float64(now + 120)} {
		if claims[k] != v {
			t.Errorf("%s = %v, want %v", k, claims[k], v)
		}
	}
	if _, ok := claims["nonce"]; ok {
		t.Error("a logout token must not carry a nonce (§2.4)")
	}
	if jti, _ := claims["jti"].(string); len(jti) < 16 {
		t.Errorf("jti %q", jti)
	}
	ev, _ := json.Marshal(claims["events"])
	if string(ev) != `{"http://schemas.openid.net/event/backchannel-logout":{}}` {
		t.Errorf("events %s", ev)
	}
	if !slices.Equal(f.sig.purposes, []string{keys.PurposeIDToken}) {
		t.Errorf("signed with %q, want the id_token key", f.sig.purposes)
	}
	// Delivered once: nothing left, and the session's clients are forgotten.
	if n := f.deliver(t); n != 0 || f.post.count() != 1 {
		t.Fatalf("delivered again: %d (%d posts)", n, f.post.count())
	}
	if front, err := f.n.SessionEnding(t.Context(), "alice", hash("cookie")); err != nil || len(front) != 0 {
		t.Fatalf("ending it again: %v %+v", err, front)
	}
}

// TestDelay: exponential from BaseDelay, capped at MaxDelay.
func TestDelay(t *testing.T) {
	f := newFixture(t, 200)
	for _, tc := range []struct {
		attempts int
		want     time.Duration
	}{{1, 10 * time.Second}, {2, 20 * time.Second}, {3, 40 * time.Second}, {4, time.Minute}, {50, time.Minute}} {
		if got := f.n.Delay(tc.attempts); got != tc.want {
			t.Errorf("Delay(%d) = %v, want %v", tc.attempts, got, tc.want)
		}
	}
}

// TestRetrySchedule: failures are retried on the backoff schedule, a
// success ends it, a refusal (400) or the maximum age gives up.
func TestRetrySchedule(t *testing.T) {
	tests := []struct {
		name     string
		statuses []int
		// steps: how far to move the clock before each pass, and how many
		// posts there must be in all after it.
		steps     []time.Duration
		wantPosts []int
		// wantCounts are authd_logout_notifications_total by result at the end.
		wantCounts map[string]float64
	}{
		{"retried until delivered", []int{503, 500, 204},
			[]time.Duration{0, 9 * time.Second, time.Second, 19 * time.Second, time.Second, time.Hour},
			[]int{1, 1, 2, 2, 3, 3}, map[string]float64{"retried": 2, "delivered": 1, "given_up": 0}},
		{"429 and 408 are retried", []int{429, 408, 200},
			[]time.Duration{0, 10 * time.Second, 20 * time.Second, time.Hour}, []int{1, 2, 3, 3}, map[string]float64{"retried": 2, "delivered": 1}},
		{"400 gives up at once", []int{400},
			[]time.Duration{0, 10 * time.Second, time.Hour}, []int{1, 1, 1}, map[string]float64{"given_up": 1, "retried": 0, "delivered": 0}},
		{"a redirect is not delivery", []int{303},
			[]time.Duration{0, 10 * time.Second}, []int{1, 1}, map[string]float64{"given_up": 1}},
		// MaxAge 1h: the second attempt (at 59m) is the last; none after the hour.
		{"given up at the maximum age", []int{503},
			[]time.Duration{0, 59 * time.Minute, time.Hour}, []int{1, 2, 2}, map[string]float64{"retried": 2, "delivered": 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.statuses...)
			f.join(t, "s", "alice", "back")
			if _, err := f.n.SessionEnding(t.Context(), "alice", hash("s")); err != nil {
				t.Fatal(err)
			}
			for i, d := range tc.steps {
				f.clk.Advance(d)
				f.deliver(t)
				if got := f.post.count(); got != tc.wantPosts[i] {
					t.Fatalf("step %d (+%v): %d posts, want %d", i, d, got, tc.wantPosts[i])
				}
			}
			for result, want := range tc.wantCounts {
				if got := metrictest.Value(t, f.reg, "authd_logout_notifications_total", "result", result); got != want {
					t.Errorf("%s = %v, want %v", result, got, want)
				}
			}
		})
	}
}

// TestUserSessionsEnding: every session of the user is told but the one
// kept, and only clients with a backchannel_logout_uri get a token.
func TestUserSessionsEnding(t *testing.T) {
	f := newFixture(t, 200)
	s1 := f.join(t, "s1", "alice", "back", "both", "none")
	f.join(t, "s2", "alice", "back")
	s3 := f.join(t, "s3", "alice", "both")
	f.join(t, "bob", "bob", "back")
	if err := f.n.UserSessionsEnding(t.Context(), "alice", hash("s2")); err != nil {
		t.Fatal(err)
	}
	if n := f.deliver(t); n != 3 {
		t.Fatalf("delivered %d, want 3", n)
	}
	var got []string
	for _, p := range f.post.posts {
		jws, _ := jose.ParseSignedCompact(p.token, []jose.SignatureAlgorithm{jose.ES256})
		var c struct{ Aud, Sid string }
		_ = json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &c)
		got = append(got, c.Aud+" "+c.Sid)
	}
	slices.Sort(got)
	want := []string{"back " + s1, "both " + s1, "both " + s3}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("told %q, want %q", got, want)
	}
	// The kept session still has its client.
	if err := f.n.UserSessionsEnding(t.Context(), "alice", nil); err != nil {
		t.Fatal(err)
	}
	if n := f.deliver(t); n != 1 {
		t.Fatalf("then delivered %d, want 1 (s2)", n)
	}
}

// TestDeletedClient: a notification to a client deleted since is dropped.
func TestDeletedClient(t *testing.T) {
	f := newFixture(t, 200)
	f.join(t, "s", "alice", "back")
	if _, err := f.n.SessionEnding(t.Context(), "alice", hash("s")); err != nil {
		t.Fatal(err)
	}
	if err := f.st.DeleteClient(t.Context(), "back"); err != nil {
		t.Fatal(err)
	}
	if n := f.deliver(t); n != 0 || f.post.count() != 0 {
		t.Fatalf("delivered %d to a deleted client", n)
	}
	if claimed, _ := f.st.ClaimLogouts(t.Context(), start.Add(time.Hour), time.Minute, 10); len(claimed) != 0 {
		t.Fatalf("the notification stayed: %d", len(claimed))
	}
}

// TestReplicasDeliverOnce: two notifiers on one store (two replicas)
// delivering at the same time post each notification once.
func TestReplicasDeliverOnce(t *testing.T) {
	f := newFixture(t, 200)
	other, err := logoutnotify.New(f.st, f.st, f.sig, f.post, logoutnotify.Options{
		Issuer: issuer, Now: f.clk.Now, Logger: slog.New(slog.DiscardHandler), Batch: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	const sessions = 30
	for i := range sessions {
		name := fmt.Sprintf("s%02d", i)
		f.join(t, name, "alice", "back")
		if _, err := f.n.SessionEnding(t.Context(), "alice", hash(name)); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for _, n := range []*logoutnotify.Notifier{f.n, other, f.n, other} {
		wg.Go(func() {
			if _, err := n.DeliverDue(t.Context()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	seen := map[string]int{}
	for _, p := range f.post.posts {
		jws, _ := jose.ParseSignedCompact(p.token, []jose.SignatureAlgorithm{jose.ES256})
		var c struct{ Sid string }
		_ = json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &c)
		seen[c.Sid]++
	}
	if len(seen) != sessions {
		t.Fatalf("%d sessions told, want %d", len(seen), sessions)
	}
	for sid, n := range seen {
		if n != 1 {
			t.Errorf("session %s told %d times", sid, n)
		}
	}
}
