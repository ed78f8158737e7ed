package account

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/internal/testenv/dbtest"

	"github.com/authd/authd/internal/password"
	"github.com/authd/authd/internal/store"
	"github.com/authd/authd/internal/store/sqlite"
)

// tinyParams keep Argon2id cheap in tests.
var tinyParams = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

const goodPassword = "correct horse battery staple"

// spyHasher wraps the real Hasher to count decoy verifications and to inject
// ErrBusy: the hashing itself is real.
type spyHasher struct {
	*password.Hasher
	dummies  atomic.Int64
	verifies atomic.Int64
	busy     atomic.Bool // every call fails with ErrBusy
	busyHash atomic.Bool // only Hash fails with ErrBusy

	mu          sync.Mutex
	decoyParams []password.Params // of each VerifyDecoy
}

func (h *spyHasher) Hash(ctx context.Context, pw string) (string, error) {
	if h.busy.Load() || h.busyHash.Load() {
		return "", password.ErrBusy
	}
	return h.Hasher.Hash(ctx, pw)
}

func (h *spyHasher) Verify(ctx context.Context, pw, enc string) (bool, bool, error) {
	if h.busy.Load() {
		return false, false, password.ErrBusy
	}
	h.verifies.Add(1)
	return h.Hasher.Verify(ctx, pw, enc)
}

func (h *spyHasher) VerifyDummy(ctx context.Context, pw string) error {
	if h.busy.Load() {
		return password.ErrBusy
	}
	h.dummies.Add(1)
	return h.Hasher.VerifyDummy(ctx, pw)
}

// VerifyDecoy counts as a decoy verification, as VerifyDummy does, and
// records the parameters it was done at.
func (h *spyHasher) VerifyDecoy(ctx context.Context, pw, name string) error {
	if h.busy.Load() {
		return password.ErrBusy
	}
	h.dummies.Add(1)
	h.mu.Lock()
	h.decoyParams = append(h.decoyParams, h.Hasher.DecoyParams(name))
	h.mu.Unlock()
	return h.Hasher.VerifyDecoy(ctx, pw, name)
}

func (h *spyHasher) takeDecoyParams() []password.Params {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := h.decoyParams
	h.decoyParams = nil
	return p
}

type fixture struct {
	db    *sqlite.DB
	svc   *Service
	spy   *spyHasher
	now   time.Time
	guard *recordingGuard
}

func openDB(t *testing.T) *sqlite.DB {
	t.Helper()
	return dbtest.SQLite(t)
}

func newFixture(t *testing.T, p password.Params) *fixture {
	t.Helper()
	f := &fixture{db: openDB(t), now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), guard: &recordingGuard{}}
	f.svc = f.service(p)
	return f
}

// service builds a Service over the fixture's store with a Hasher at p.
func (f *fixture) service(p password.Params) *Service {
	f.spy = &spyHasher{Hasher: password.New(p, password.Limits{})}
	s := New(f.db, f.spy.Hasher, password.Policy{}, Options{
		Now:    func() time.Time { return f.now },
		Logger: slog.New(slog.DiscardHandler),
		Guard:  f.guard,
	})
	s.hasher = f.spy
	return s
}

func TestNormalizeUsername(t *testing.T) {
	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{"plain", "alice", "alice", false},
		{"case folded", "Alice", "alice", false},
		{"trimmed", "  bob\t", "bob", false},
		{"fullwidth NFKC", "ｂｏｂ", "bob", false},
		{"decomposed equals composed", "jose\u0301", "jos\u00e9", false},
		{"unicode kept", "Ünïcødé", "ünïcødé", false},
		{"email-like", "Carol@Example.COM", "carol@example.com", false},
		{"64 runes", strings.Repeat("é", 64), strings.Repeat("é", 64), false},
		{"empty", "", "", true},
		{"only spaces", "   ", "", true},
		{"space inside", "al ice", "", true},
		{"nbsp inside", "al\u00a0ice", "", true},
		{"tab inside", "al\tice", "", true},
		{"control", "al\x00ice", "", true},
		{"zero-width joiner", "al\u200dice", "", true},
		{"bidi override", "al\u202eice", "", true},
		{"65 runes", strings.Repeat("a", 65), "", true},
		{"invalid utf8", "al\xffice", "", true},
		{"huge", strings.Repeat("a", 1<<20), "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NormalizeUsername(tc.in)
			if tc.wantErr {
				var ie *InputError
				if !errors.As(err, &ie) || ie.Field != "username" || ie.Reason == "" {
					t.Fatalf("NormalizeUsername(%q) = %q, %v; want *InputError for username", tc.in, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("NormalizeUsername(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

// FuzzNormalizeUsername: a normalised name is a fixed point, so a stored
// username is found again by whatever normalises to it.
func FuzzNormalizeUsername(f *testing.F) {
	for _, s := range []string{"alice", "İstanbul", "ＡＢＣ", "ǅ", "ﬁ", "ẞ", "Å", "\u0130\u0307"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := NormalizeUsername(s)
		if err != nil {
			return
		}
		n2, err := NormalizeUsername(n)
		if err != nil || n2 != n {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, n, n2, err)
		}
	})
}

func TestCreate(t *testing.T) {
	f := newFixture(t, tinyParams)
	ctx := context.Background()
	if _, err := f.svc.Create(ctx, "taken", goodPassword, ""); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, username, password, email string
		wantErr                         error  // sentinel, or nil
		wantField                       string // *InputError field, or ""
	}{
		{"ok", "Alice", goodPassword, "alice@example.com", nil, ""},
		{"ok without email", "bob", goodPassword, "", nil, ""},
		{"username taken", "taken", goodPassword, "", store.ErrConflict, ""},
		{"taken in other case", "TAKEN", goodPassword, "", store.ErrConflict, ""},
		{"bad username", "has space", goodPassword, "", nil, "username"},
		{"empty username", "", goodPassword, "", nil, "username"},
		{"bad email", "carol", goodPassword, "not an address", nil, "email"},
		{"display-name email", "carol", goodPassword, "Carol <carol@example.com>", nil, "email"},
		{"long email", "carol", goodPassword, strings.Repeat("a", 250) + "@x.io", nil, "email"},
		{"short password", "carol", "short", "", nil, "password"},
		{"common password", "carol", "qwertyuiop", "", nil, "password"},
		{"password contains username", "carolyn", "carolyn-the-great", "", nil, "password"},
		{"password contains email local part", "dave", "xx-davidson-xx", "davidson@example.com", nil, "password"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := f.svc.Create(ctx, tc.username, tc.password, tc.email)
			switch {
			case tc.wantField != "":
				var ie *InputError
				if !errors.As(err, &ie) || ie.Field != tc.wantField || ie.Reason == "" {
					t.Fatalf("Create err = %v, want *InputError for %s", err, tc.wantField)
				}
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Create err = %v, want %v", err, tc.wantErr)
				}
			default:
				if err != nil {
					t.Fatalf("Create: %v", err)
				}
				got, err := f.db.User(ctx, u.ID)
				if err != nil {
					t.Fatal(err)
				}
				want, _ := NormalizeUsername(tc.username)
				if got.Username != want || got.Email != tc.email || got.Disabled ||
					!got.CreatedAt.Equal(f.now) || !strings.HasPrefix(got.PasswordHash, "$argon2id$v=19$m=64,t=1,p=1$") {
					t.Errorf("stored user = %+v", got)
				}
				if len(got.ID) != 22 || strings.Contains(got.ID, want) {
					t.Errorf("subject %q is not 128-bit base64url random", got.ID)
				}
			}
		})
	}
}

func TestSubjectIsRandom(t *testing.T) {
	f := newFixture(t, tinyParams)
	ctx := context.Background()
	a, err := f.svc.Create(ctx, "one", goodPassword, "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.svc.Create(ctx, "two", goodPassword, "")
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == b.ID {
		t.Fatalf("two users share subject %q", a.ID)
	}
}

func TestSetPassword(t *testing.T) {
	f := newFixture(t, tinyParams)
	ctx := context.Background()
	u, err := f.svc.Create(ctx, "erin", goodPassword, "erin@example.com")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, id, password string
		wantErr            error
		wantField          string
	}{
		{"ok", u.ID, "a whole new passphrase", nil, ""},
		{"unknown user", "nope", "a whole new passphrase", store.ErrNotFound, ""},
		{"policy", u.ID, "12345678", nil, "password"},
		{"contains username", u.ID, "i-am-erin-ok", nil, "password"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := f.svc.SetPassword(ctx, tc.id, tc.password)
			var ie *InputError
			switch {
			case tc.wantField != "":
				if !errors.As(err, &ie) || ie.Field != tc.wantField {
					t.Fatalf("err = %v, want *InputError for %s", err, tc.wantField)
				}
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if _, err := f.svc.Authenticate(ctx, "erin", tc.password); err != nil {
					t.Fatalf("new password does not authenticate: %v", err)
				}
				if _, err := f.svc.Authenticate(ctx, "erin", goodPassword); !errors.Is(err, ErrInvalidCredentials) {
					t.Fatalf("old password still works: %v", err)
				}
			}
		})
	}
}

func TestAuthenticate(t *testing.T) {
	f := newFixture(t, tinyParams)
	ctx := WithClientIP(context.Background(), "192.0.2.7")
	alice, err := f.svc.Create(ctx, "Alice", goodPassword, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Create(ctx, "mallory", goodPassword, ""); err != nil {
		t.Fatal(err)
	}
	mallory, _ := f.db.UserByUsername(ctx, "mallory")
	if err := f.db.SetUserDisabled(ctx, mallory.ID, true, f.now); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, username, password string
		busy                     bool
		wantErr                  error
		wantUser                 string
		wantDummies, wantVerify  int64  // hasher calls
		wantGuard                string // "succeed:<user>" or "fail:<user>", or "" for none
	}{
		{"ok", "alice", goodPassword, false, nil, alice.ID, 0, 1, "succeed:alice"},
		{"other case", "ALICE", goodPassword, false, nil, alice.ID, 0, 1, "succeed:alice"},
		{"spaces and width", " ａｌｉｃｅ ", goodPassword, false, nil, alice.ID, 0, 1, "succeed:alice"},
		{"wrong password", "alice", "wrong horse battery staple", false, ErrInvalidCredentials, "", 0, 1, "fail:alice"},
		{"empty password", "alice", "", false, ErrInvalidCredentials, "", 0, 1, "fail:alice"},
		{"unknown user", "nobody", goodPassword, false, ErrInvalidCredentials, "", 1, 0, "fail:nobody"},
		{"malformed username", "no body", goodPassword, false, ErrInvalidCredentials, "", 1, 0, "fail:"},
		{"disabled, right password", "mallory", goodPassword, false, ErrInvalidCredentials, "", 0, 1, "fail:mallory"},
		{"disabled, wrong password", "mallory", "nope nope nope", false, ErrInvalidCredentials, "", 0, 1, "fail:mallory"},
		{"busy known user", "alice", goodPassword, true, password.ErrBusy, "", 0, 0, ""},
		{"busy unknown user", "nobody", goodPassword, true, password.ErrBusy, "", 0, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.spy.dummies.Store(0)
			f.spy.verifies.Store(0)
			f.spy.busy.Store(tc.busy)
			defer f.spy.busy.Store(false)
			f.guard.reset()
			u, err := f.svc.Authenticate(ctx, tc.username, tc.password)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || u != nil {
					t.Fatalf("Authenticate = %v, %v; want %v", u, err, tc.wantErr)
				}
				if tc.wantErr == password.ErrBusy && err != password.ErrBusy {
					t.Errorf("ErrBusy not passed through unchanged: %v", err)
				}
			} else if err != nil || u.ID != tc.wantUser {
				t.Fatalf("Authenticate = %v, %v; want user %s", u, err, tc.wantUser)
			}
			if d, v := f.spy.dummies.Load(), f.spy.verifies.Load(); d != tc.wantDummies || v != tc.wantVerify {
				t.Errorf("hasher: %d decoy and %d real verifications, want %d and %d", d, v, tc.wantDummies, tc.wantVerify)
			}
			guardUser, _ := NormalizeUsername(tc.username)
			wantEvents := []string{"allow:" + guardUser + "@192.0.2.7"}
			if tc.wantGuard != "" {
				wantEvents = append(wantEvents, tc.wantGuard+"@192.0.2.7")
			}
			if got := f.guard.list(); strings.Join(got, ",") != strings.Join(wantEvents, ",") {
				t.Errorf("guard saw %q, want %q", got, wantEvents)
			}
		})
	}
}

// recordingGuard records what Authenticate tells it; deny makes Allow refuse.
type recordingGuard struct {
	mu        sync.Mutex
	events    []string
	deny      error
	unlockErr error
}

func (g *recordingGuard) add(kind string, a Attempt) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.events = append(g.events, kind+":"+a.Username+"@"+a.IP)
}

func (g *recordingGuard) Allow(_ context.Context, a Attempt) error {
	g.add("allow", a)
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.deny
}
func (g *recordingGuard) Fail(_ context.Context, a Attempt)    { g.add("fail", a) }
func (g *recordingGuard) Succeed(_ context.Context, a Attempt) { g.add("succeed", a) }
func (g *recordingGuard) Unlock(_ context.Context, username string) error {
	g.add("unlock", Attempt{Username: username})
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.unlockErr
}

func (g *recordingGuard) reset() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.events, g.deny, g.unlockErr = nil, nil, nil
}

func (g *recordingGuard) list() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.events...)
}

func TestGuardDenyDoesNoWork(t *testing.T) {
	f := newFixture(t, tinyParams)
	ctx := context.Background()
	if _, err := f.svc.Create(ctx, "alice", goodPassword, ""); err != nil {
		t.Fatal(err)
	}
	locked := errors.New("locked out")
	f.guard.reset()
	f.guard.deny = locked
	f.spy.verifies.Store(0)
	if _, err := f.svc.Authenticate(ctx, "alice", goodPassword); err != locked {
		t.Fatalf("Authenticate err = %v, want the Guard's error unchanged", err)
	}
	if n := f.spy.verifies.Load() + f.spy.dummies.Load(); n != 0 {
		t.Errorf("%d verifications after the Guard refused", n)
	}
	if got := f.guard.list(); len(got) != 1 {
		t.Errorf("guard events %q, want only the Allow", got)
	}
}

func TestRehash(t *testing.T) {
	stronger := password.Params{Memory: 128, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
	tests := []struct {
		name         string
		hashFails    bool
		wantPrefix   string
		wantUpdateAt bool
	}{
		{"params changed", false, "$argon2id$v=19$m=128,t=2,p=1$", true},
		{"rehash fails, login still succeeds", true, "$argon2id$v=19$m=64,t=1,p=1$", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tinyParams)
			ctx := context.Background()
			created, err := f.svc.Create(ctx, "alice", goodPassword, "")
			if err != nil {
				t.Fatal(err)
			}
			// The operator raises the cost; the same store, a new Hasher.
			svc := f.service(stronger)
			f.spy.busyHash.Store(tc.hashFails)
			f.now = f.now.Add(time.Hour)
			u, err := svc.Authenticate(ctx, "alice", goodPassword)
			if err != nil || u.ID != created.ID {
				t.Fatalf("Authenticate = %v, %v", u, err)
			}
			stored, err := f.db.User(ctx, created.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(stored.PasswordHash, tc.wantPrefix) {
				t.Errorf("stored hash %q, want prefix %q", stored.PasswordHash, tc.wantPrefix)
			}
			if got := stored.UpdatedAt.Equal(f.now); got != tc.wantUpdateAt {
				t.Errorf("UpdatedAt = %v, bumped = %v, want %v", stored.UpdatedAt, got, tc.wantUpdateAt)
			}
			if u.PasswordHash != stored.PasswordHash {
				t.Errorf("returned user's hash is not the stored one")
			}
			// The upgraded hash verifies and no longer asks for a rehash.
			f.spy.busyHash.Store(false)
			if _, err := svc.Authenticate(ctx, "alice", goodPassword); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestCorruptStoredHash(t *testing.T) {
	f := newFixture(t, tinyParams)
	ctx := context.Background()
	u, err := f.svc.Create(ctx, "alice", goodPassword, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.SetPasswordHash(ctx, u.ID, "not a phc string", f.now); err != nil {
		t.Fatal(err)
	}
	f.spy.dummies.Store(0)
	if _, err := f.svc.Authenticate(ctx, "alice", goodPassword); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("err = %v, want ErrInvalidCredentials", err)
	}
	if f.spy.dummies.Load() != 1 {
		t.Error("no decoy verification for an unusable stored hash")
	}
}

func TestCreateBusy(t *testing.T) {
	f := newFixture(t, tinyParams)
	f.spy.busy.Store(true)
	if _, err := f.svc.Create(context.Background(), "alice", goodPassword, ""); !errors.Is(err, password.ErrBusy) {
		t.Fatalf("err = %v, want ErrBusy", err)
	}
	if _, err := f.db.UserByUsername(context.Background(), "alice"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("user stored although hashing failed: %v", err)
	}
}

func TestClientIP(t *testing.T) {
	if got := ClientIP(context.Background()); got != "" {
		t.Errorf("ClientIP of a bare context = %q", got)
	}
	if got := ClientIP(WithClientIP(context.Background(), "2001:db8::1")); got != "2001:db8::1" {
		t.Errorf("ClientIP = %q", got)
	}
}

// TestAuthenticateConcurrent: parallel logins that all want a rehash each
// succeed, and the stored hash ends at the new parameters whichever wins.
func TestAuthenticateConcurrent(t *testing.T) {
	f := newFixture(t, tinyParams)
	ctx := context.Background()
	if _, err := f.svc.Create(ctx, "alice", goodPassword, ""); err != nil {
		t.Fatal(err)
	}
	svc := f.service(password.Params{Memory: 128, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			if _, err := svc.Authenticate(ctx, "alice", goodPassword); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Authenticate: %v", err)
	}
	u, err := f.db.UserByUsername(ctx, "alice")
	if err != nil || !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=128,t=1,p=1$") {
		t.Fatalf("stored hash %q, %v", u.PasswordHash, err)
	}
}
