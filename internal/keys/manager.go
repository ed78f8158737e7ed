package keys

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/internal/store"
)

// Errors from Verify. They are deliberately coarse: a caller learns only that a
// token is not good, never which check failed.
var (
	ErrMalformed  = errors.New("keys: malformed token")
	ErrUnknownKey = errors.New("keys: unknown key")
	ErrSignature  = errors.New("keys: bad signature")
	ErrType       = errors.New("keys: wrong token type")
	ErrNoKey      = errors.New("keys: no signing key for algorithm")
	// ErrNoSeries: Rotate was asked for a purpose or algorithm this Manager
	// keeps no keys for.
	ErrNoSeries = errors.New("keys: no key series")
)

// KeyStore is the slice of the store the Manager needs.
type KeyStore interface {
	RotateKey(ctx context.Context, k *store.SigningKey, publishUntil time.Time) error
	SigningKeys(ctx context.Context, now time.Time) ([]*store.SigningKey, error)
}

// Key purposes. A key signs for one purpose only, and a token is verified
// only against keys of the purpose it claims to be: an access token signed
// by the id_token key (or the other way round) is refused even when both
// use the same algorithm.
const (
	PurposeAccess  = "access"
	PurposeIDToken = "id_token"
)

// Purpose is one series of keys: what they sign, and with which algorithm.
type Purpose struct {
	Name      string // PurposeAccess, PurposeIDToken; "" in Algorithms shorthand
	Algorithm string
}

// Options configures a Manager.
type Options struct {
	// Purposes to keep a current key for; the first is the default of Sign("").
	Purposes []Purpose
	// Algorithms is shorthand for unnamed Purposes, one per algorithm, for
	// tools and tests that do not tell purposes apart. Ignored when Purposes
	// is set.
	Algorithms []string
	// Retain is how long a replaced key stays in the JWKS after its successor
	// starts signing: at least the longest lifetime of anything it signed, so
	// no token outlives its key.
	Retain time.Duration
	// Prepublish is how long a rotated-in key sits in the JWKS before it signs
	// anything, so resource servers holding a cached JWKS (Cache-Control
	// max-age) already know it when the first token arrives. Zero: at once.
	Prepublish time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// RotateEvery, when positive, makes Run rotate each algorithm's key once
	// it has signed for this long (with pre-publication as usual).
	RotateEvery time.Duration
	// Notifier, if set, carries rotations between replicas (Redis pub/sub):
	// this Manager announces its rotations on it, and Watch reloads on
	// everyone else's.
	Notifier Notifier
	// Logger receives what callers are not told (an announcement that did
	// not go out); default: discarded.
	Logger *slog.Logger
}

// Notifier is a broadcast channel between replicas; *cache/redis.Cache
// implements it.
type Notifier interface {
	Publish(ctx context.Context, channel string, payload []byte) error
	// Subscribe calls onSubscribed on every (re)subscription and onMessage
	// for every message, until ctx ends.
	Subscribe(ctx context.Context, channel string, onSubscribed func(), onMessage func(payload string)) error
}

// RotationChannel is the Notifier channel of rotation notices.
const RotationChannel = "keys"

// announce tells the other replicas to reload. A notice that does not go out
// costs them at most the Run interval.
func (m *Manager) announce(ctx context.Context) {
	if m.opts.Notifier == nil {
		return
	}
	if err := m.opts.Notifier.Publish(ctx, RotationChannel, []byte("rotated")); err != nil {
		m.opts.Logger.Warn("announce key rotation (replicas reload within their interval)", "error", err.Error())
	}
}

// Watch reloads the keys whenever another replica announces a rotation,
// and after every (re)subscription, since a notice may have been missed
// meanwhile, until ctx ends. Without a Notifier it returns at once.
func (m *Manager) Watch(ctx context.Context) {
	if m.opts.Notifier == nil {
		return
	}
	reload := func() {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := m.Reload(rctx); err != nil && ctx.Err() == nil {
			m.opts.Logger.Warn("reload signing keys", "error", err.Error())
		}
	}
	err := m.opts.Notifier.Subscribe(ctx, RotationChannel, reload, func(string) { reload() })
	if err != nil && ctx.Err() == nil {
		m.opts.Logger.Warn("key rotation subscription ended", "error", err.Error())
	}
}

// Manager signs with the current key of each algorithm and verifies with every
// published key. Safe for concurrent use; Sign and Verify take no locks.
type Manager struct {
	st     KeyStore
	sealer *Sealer
	opts   Options

	snap   atomic.Pointer[snapshot]
	reload sync.Mutex
	// opened are the keys the last reload opened, by kid, with the sealed
	// bytes they came from (under reload): a reload every 30 s reuses them
	// rather than unsealing and parsing every key again (an RSA key's
	// parse checks it, a millisecond of CPU and pages that idling need not
	// touch).
	opened map[string]openedKey
	// lastMiss throttles reloads triggered by unknown kids, so a flood of forged
	// kids cannot turn into a flood of store queries.
	lastMiss atomic.Int64
}

type snapshot struct {
	current map[int]*liveKey // by index in Options.Purposes: signing now
	// next is a pre-published key that takes over from current at its
	// activation time, without waiting for a reload.
	next  map[int]*liveKey
	byKID map[string]*liveKey
	// hasOwn: purpose i has a key of its own, not only unnamed ones.
	hasOwn  map[int]bool
	signers sync.Map // signerKey -> *compactSigner, built on first use
	jwks    []byte
}

type signerKey struct{ kid, typ string }

type openedKey struct {
	sealed []byte
	key    *liveKey
}

// open is openKey, reusing the key the last reload opened from the same
// record; the caller holds m.reload and adds the record's entry to next.
// Each call returns a copy: the caller sets its fields for its snapshot.
func (m *Manager) open(r *store.SigningKey, next map[string]openedKey) (*liveKey, error) {
	o, ok := m.opened[r.ID]
	if !ok || !bytes.Equal(o.sealed, r.PrivateKey) || string(o.key.alg) != r.Algorithm {
		k, err := openKey(r, m.sealer)
		if err != nil {
			return nil, err
		}
		o = openedKey{sealed: bytes.Clone(r.PrivateKey), key: k}
	}
	next[r.ID] = o
	k := *o.key
	return &k, nil
}

// NewManager returns a Manager; call Load before use.
func NewManager(st KeyStore, sealer *Sealer, opts Options) (*Manager, error) {
	if len(opts.Purposes) == 0 {
		if len(opts.Algorithms) == 0 {
			opts.Algorithms = []string{ES256}
		}
		for _, a := range opts.Algorithms {
			opts.Purposes = append(opts.Purposes, Purpose{Algorithm: a})
		}
	}
	seen := map[Purpose]bool{}
	for _, p := range opts.Purposes {
		if !ValidAlgorithm(p.Algorithm) {
			return nil, fmt.Errorf("keys: unsupported algorithm %q", p.Algorithm)
		}
		if seen[p] {
			return nil, fmt.Errorf("keys: purpose %q with %s given twice", p.Name, p.Algorithm)
		}
		seen[p] = true
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Manager{st: st, sealer: sealer, opts: opts}, nil
}

// Load reads the live keys from the store, generating a first key for every
// configured algorithm that has none. Replicas starting together may each
// generate one; the newest wins and the others are retired like any rotation.
func (m *Manager) Load(ctx context.Context) error {
	if err := m.Reload(ctx); err != nil {
		return err
	}
	for i := range m.opts.Purposes {
		s := m.snap.Load()
		switch {
		case s.signing(i, m.opts.Now()) == nil:
			if _, err := m.rotate(ctx, i, 0); err != nil {
				return err
			}
		case m.opts.Purposes[i].Name != "" && !s.hasOwn[i]:
			// Upgrading from keys without a purpose: the unnamed key of this
			// algorithm keeps signing while a key of the purpose is published,
			// then the new key takes over as after any rotation.
			if _, err := m.rotate(ctx, i, m.opts.Prepublish); err != nil {
				return err
			}
		}
	}
	return nil
}

// serves reports whether a stored key belongs to purpose p: its own, or an
// unnamed key (from before purposes) of p's algorithm.
func serves(r *store.SigningKey, p Purpose) bool {
	return r.Algorithm == p.Algorithm && (r.Purpose == p.Name || r.Purpose == "")
}

// Reload replaces the snapshot with the store's current view.
func (m *Manager) Reload(ctx context.Context) error {
	m.reload.Lock()
	defer m.reload.Unlock()
	now := m.opts.Now()
	recs, err := m.st.SigningKeys(ctx, now)
	if err != nil {
		return fmt.Errorf("keys: load signing keys: %w", err)
	}
	s := &snapshot{current: map[int]*liveKey{}, next: map[int]*liveKey{}, byKID: map[string]*liveKey{}, hasOwn: map[int]bool{}}
	pubs := make([]json.RawMessage, 0, len(recs))
	// Newest first. A key's CreatedAt is when it starts signing, possibly in
	// the future (pre-published): the newest key already active is current,
	// and the newest one not yet active, if any, is next.
	slices.SortStableFunc(recs, func(a, b *store.SigningKey) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	opened := make(map[string]openedKey, len(recs))
	for _, r := range recs {
		k, err := m.open(r, opened)
		if err != nil {
			return err
		}
		k.activeAt = r.CreatedAt
		k.purposes = map[string]bool{}
		s.byKID[k.id] = k
		for i, p := range m.opts.Purposes {
			if !serves(r, p) {
				continue
			}
			k.purposes[p.Name] = true
			if r.Purpose == p.Name {
				s.hasOwn[i] = true
			}
			switch {
			case r.CreatedAt.After(now):
				if s.next[i] == nil {
					s.next[i] = k
				}
			case s.current[i] == nil:
				s.current[i] = k
			}
		}
		pubs = append(pubs, json.RawMessage(r.PublicJWK))
	}
	for i, n := range s.next {
		if s.current[i] == nil {
			s.current[i] = n // nothing else can sign
			delete(s.next, i)
		}
	}
	doc, err := json.Marshal(struct {
		Keys []json.RawMessage `json:"keys"`
	}{pubs})
	if err != nil {
		return err
	}
	s.jwks = doc
	m.opened = opened
	m.snap.Store(s)
	return nil
}

// Rotate adds a new key for each purpose that which selects (a purpose name,
// or an algorithm: every purpose using it; "" means the default purpose) that
// starts signing after Prepublish, and returns the first; each key it
// replaces stays published for Retain after that.
func (m *Manager) Rotate(ctx context.Context, which string) (*store.SigningKey, error) {
	return m.rotateAndAnnounce(ctx, which, m.opts.Prepublish)
}

// RotateNow is Rotate with no pre-publication: the new key signs at once.
// It is for a key that may be compromised; resource servers with a cached
// JWKS refetch it when they meet the new kid.
func (m *Manager) RotateNow(ctx context.Context, alg string) (*store.SigningKey, error) {
	return m.rotateAndAnnounce(ctx, alg, 0)
}

func (m *Manager) rotateAndAnnounce(ctx context.Context, which string, delay time.Duration) (*store.SigningKey, error) {
	idx := m.selectAll(which)
	if len(idx) == 0 {
		return nil, fmt.Errorf("%w %q (in use: %s)", ErrNoSeries, which, m.purposeNames())
	}
	var first *store.SigningKey
	for _, i := range idx {
		k, err := m.rotate(ctx, i, delay)
		if err != nil {
			return nil, err
		}
		if first == nil {
			first = k
		}
	}
	m.announce(ctx)
	return first, nil
}

// selectAll returns the purposes which names: "" the default, a purpose
// name that purpose, an algorithm every purpose that uses it.
func (m *Manager) selectAll(which string) []int {
	if which == "" {
		return []int{0}
	}
	var out []int
	for i, p := range m.opts.Purposes {
		if p.Name == which || (p.Name != which && p.Algorithm == which) {
			out = append(out, i)
		}
	}
	return out
}

// selectOne is the purpose that signs for which: the first selectAll match.
func (m *Manager) selectOne(which string) (int, bool) {
	if which == "" {
		return 0, true
	}
	for i, p := range m.opts.Purposes {
		if p.Name == which {
			return i, true
		}
	}
	for i, p := range m.opts.Purposes {
		if p.Algorithm == which {
			return i, true
		}
	}
	return 0, false
}

func (m *Manager) purposeNames() string {
	var names []string
	for _, p := range m.opts.Purposes {
		if p.Name == "" {
			names = append(names, p.Algorithm)
		} else {
			names = append(names, p.Name+" ("+p.Algorithm+")")
		}
	}
	return strings.Join(names, ", ")
}

func (m *Manager) rotate(ctx context.Context, i int, delay time.Duration) (*store.SigningKey, error) {
	p := m.opts.Purposes[i]
	activeAt := m.opts.Now().Add(delay)
	k, err := NewSigningKey(p.Algorithm, m.sealer, activeAt)
	if err != nil {
		return nil, err
	}
	k.Purpose = p.Name
	if err := m.st.RotateKey(ctx, k, activeAt.Add(m.opts.Retain)); err != nil {
		return nil, fmt.Errorf("keys: store new key: %w", err)
	}
	return k, m.Reload(ctx)
}

// Run reloads the keys every interval until ctx ends, so a rotation on another
// replica reaches this one within the interval even if no notice arrives.
func (m *Manager) Run(ctx context.Context, interval time.Duration, onErr func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			err := m.Reload(ctx)
			if err == nil {
				err = m.RotateDue(ctx)
			}
			if err != nil && onErr != nil {
				onErr(err)
			}
		}
	}
}

// RotateDue rotates every algorithm whose key has signed for RotateEvery and
// has no successor waiting. Replicas may race to it; each rotation is a
// complete one, the newest key wins and the others retire like any replaced
// key, so a race costs only an extra key in the JWKS for a while.
func (m *Manager) RotateDue(ctx context.Context) error {
	if m.opts.RotateEvery <= 0 {
		return nil
	}
	s, now := m.snap.Load(), m.opts.Now()
	rotated := false
	for i := range m.opts.Purposes {
		cur := s.signing(i, now)
		if cur == nil || s.next[i] != nil || now.Sub(cur.activeAt) < m.opts.RotateEvery {
			continue
		}
		if _, err := m.rotate(ctx, i, m.opts.Prepublish); err != nil {
			return err
		}
		rotated = true
	}
	if rotated {
		m.announce(ctx)
	}
	return nil
}

// JWKS returns the JSON Web Key Set document of every published key. The slice
// is shared: do not modify it.
func (m *Manager) JWKS() []byte { return m.snap.Load().jwks }

// CurrentKeyID returns the kid of the key that signs for which (a purpose or
// an algorithm, "" the default purpose).
func (m *Manager) CurrentKeyID(which string) string {
	i, ok := m.selectOne(which)
	if !ok {
		return ""
	}
	if k := m.snap.Load().signing(i, m.opts.Now()); k != nil {
		return k.id
	}
	return ""
}

// Algorithms returns the algorithms this Manager signs with, without repeats.
func (m *Manager) Algorithms() []string {
	var out []string
	for _, p := range m.opts.Purposes {
		if !slices.Contains(out, p.Algorithm) {
			out = append(out, p.Algorithm)
		}
	}
	return out
}

// AlgorithmFor returns the algorithm of purpose ("" if there is none).
func (m *Manager) AlgorithmFor(purpose string) string {
	if i, ok := m.selectOne(purpose); ok {
		return m.opts.Purposes[i].Algorithm
	}
	return ""
}

// Sign returns a compact JWS of payload signed with the current key of alg
// ("" = default), with header typ (e.g. "at+jwt", RFC 9068 §2.1) and kid.
func (m *Manager) Sign(which, typ string, payload []byte) (string, error) {
	i, ok := m.selectOne(which)
	if !ok {
		return "", fmt.Errorf("%w %s", ErrNoKey, which)
	}
	return m.sign(i, which, typ, payload)
}

// SignAlg is Sign with the current key of purpose's series of algorithm
// alg, for a purpose kept in several algorithms (id_tokens: the one
// configured and RS256, which OpenID Connect Core §15.1 requires).
func (m *Manager) SignAlg(purpose, alg, typ string, payload []byte) (string, error) {
	for i, p := range m.opts.Purposes {
		if p.Name == purpose && p.Algorithm == alg {
			return m.sign(i, purpose, typ, payload)
		}
	}
	return "", fmt.Errorf("%w %s (%s)", ErrNoKey, purpose, alg)
}

func (m *Manager) sign(i int, which, typ string, payload []byte) (string, error) {
	s := m.snap.Load()
	k := s.signing(i, m.opts.Now())
	if k == nil {
		return "", fmt.Errorf("%w %s", ErrNoKey, which)
	}
	sk := signerKey{k.id, typ}
	v, ok := s.signers.Load(sk)
	if !ok {
		signer, err := newCompactSigner(k, typ)
		if err != nil {
			return "", err
		}
		v, _ = s.signers.LoadOrStore(sk, signer)
	}
	return v.(*compactSigner).Sign(payload)
}

// Verify checks a compact JWS against every published key, whatever its
// purpose, and its typ header; see VerifyFor, which callers that know what
// the token should be must use.
func (m *Manager) Verify(ctx context.Context, token, typ string) ([]byte, error) {
	return m.verify(ctx, token, typ, "", false)
}

// VerifyFor checks a compact JWS against the published keys of purpose
// (keys.PurposeAccess, keys.PurposeIDToken) and its typ header (compared
// case-insensitively, RFC 7515 §4.1.9; "" skips the check) and returns the
// payload. A token signed by a key of another purpose is ErrUnknownKey. It
// does not look at claims: that is the caller's job.
func (m *Manager) VerifyFor(ctx context.Context, token, typ, purpose string) ([]byte, error) {
	return m.verify(ctx, token, typ, purpose, true)
}

func (m *Manager) verify(ctx context.Context, token, typ, purpose string, checkPurpose bool) ([]byte, error) {
	obj, err := jose.ParseSignedCompact(token, allowedAlgs)
	if err != nil || len(obj.Signatures) != 1 {
		return nil, ErrMalformed
	}
	h := obj.Signatures[0].Header
	if typ != "" {
		got, _ := h.ExtraHeaders[jose.HeaderType].(string)
		if !strings.EqualFold(got, typ) && !strings.EqualFold(got, "application/"+typ) {
			return nil, ErrType
		}
	}
	k := m.lookup(ctx, h.KeyID)
	if k == nil || (checkPurpose && !k.purposes[purpose]) {
		return nil, ErrUnknownKey
	}
	if string(k.alg) != h.Algorithm {
		return nil, ErrSignature
	}
	payload, err := obj.Verify(k.pub)
	if err != nil {
		return nil, ErrSignature
	}
	return payload, nil
}

// lookup finds a published key by kid, reloading at most once a second when the
// kid is unknown (a key rotated on another replica a moment ago).
func (m *Manager) lookup(ctx context.Context, kid string) *liveKey {
	if k := m.snap.Load().byKID[kid]; k != nil {
		return k
	}
	if kid == "" {
		return nil
	}
	now := m.opts.Now().UnixNano()
	last := m.lastMiss.Load()
	if now-last < int64(time.Second) || !m.lastMiss.CompareAndSwap(last, now) {
		return nil
	}
	if err := m.Reload(ctx); err != nil {
		return nil
	}
	return m.snap.Load().byKID[kid]
}

// signing is the key that signs for purpose i at now: the pre-published next
// key once its time has come, else the current one.
func (s *snapshot) signing(i int, now time.Time) *liveKey {
	if n := s.next[i]; n != nil && !now.Before(n.activeAt) {
		return n
	}
	return s.current[i]
}
