package keys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
)

// KeyStore is the slice of the store the Manager needs.
type KeyStore interface {
	RotateKey(ctx context.Context, k *store.SigningKey, publishUntil time.Time) error
	SigningKeys(ctx context.Context, now time.Time) ([]*store.SigningKey, error)
}

// Options configures a Manager.
type Options struct {
	// Algorithms to keep a current key for; the first is the default for Sign.
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
	// OnRotate, if set, runs after this Manager rotated a key (to tell replicas).
	OnRotate func(ctx context.Context)
}

// Manager signs with the current key of each algorithm and verifies with every
// published key. Safe for concurrent use; Sign and Verify take no locks.
type Manager struct {
	st     KeyStore
	sealer *Sealer
	opts   Options

	snap   atomic.Pointer[snapshot]
	reload sync.Mutex
	// lastMiss throttles reloads triggered by unknown kids, so a flood of forged
	// kids cannot turn into a flood of store queries.
	lastMiss atomic.Int64
}

type snapshot struct {
	current map[string]*liveKey // by algorithm: signing now
	// next is a pre-published key that takes over from current at its
	// activation time, without waiting for a reload.
	next    map[string]*liveKey
	byKID   map[string]*liveKey
	signers sync.Map // signerKey -> jose.Signer, built on first use
	jwks    []byte
}

type signerKey struct{ kid, typ string }

// NewManager returns a Manager; call Load before use.
func NewManager(st KeyStore, sealer *Sealer, opts Options) (*Manager, error) {
	if len(opts.Algorithms) == 0 {
		opts.Algorithms = []string{ES256}
	}
	for _, a := range opts.Algorithms {
		if !ValidAlgorithm(a) {
			return nil, fmt.Errorf("keys: unsupported algorithm %q", a)
		}
	}
	if opts.Now == nil {
		opts.Now = time.Now
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
	for _, alg := range m.opts.Algorithms {
		if m.snap.Load().signing(alg, m.opts.Now()) == nil {
			if _, err := m.rotate(ctx, alg, 0); err != nil {
				return err
			}
		}
	}
	return nil
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
	s := &snapshot{current: map[string]*liveKey{}, next: map[string]*liveKey{}, byKID: map[string]*liveKey{}}
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
	for _, r := range recs {
		k, err := openKey(r, m.sealer)
		if err != nil {
			return err
		}
		k.activeAt = r.CreatedAt
		s.byKID[k.id] = k
		switch {
		case r.CreatedAt.After(now):
			if s.next[r.Algorithm] == nil {
				s.next[r.Algorithm] = k
			}
		case s.current[r.Algorithm] == nil:
			s.current[r.Algorithm] = k
		}
		pubs = append(pubs, json.RawMessage(r.PublicJWK))
	}
	for alg, n := range s.next {
		if s.current[alg] == nil {
			s.current[alg] = n // nothing else can sign
			delete(s.next, alg)
		}
	}
	doc, err := json.Marshal(struct {
		Keys []json.RawMessage `json:"keys"`
	}{pubs})
	if err != nil {
		return err
	}
	s.jwks = doc
	m.snap.Store(s)
	return nil
}

// Rotate adds a new key for alg ("" means the default algorithm) that starts
// signing after Prepublish, and returns it; the key it replaces stays
// published for Retain after that.
func (m *Manager) Rotate(ctx context.Context, alg string) (*store.SigningKey, error) {
	return m.rotateAndAnnounce(ctx, alg, m.opts.Prepublish)
}

// RotateNow is Rotate with no pre-publication: the new key signs at once.
// It is for a key that may be compromised; resource servers with a cached
// JWKS refetch it when they meet the new kid.
func (m *Manager) RotateNow(ctx context.Context, alg string) (*store.SigningKey, error) {
	return m.rotateAndAnnounce(ctx, alg, 0)
}

func (m *Manager) rotateAndAnnounce(ctx context.Context, alg string, delay time.Duration) (*store.SigningKey, error) {
	if alg == "" {
		alg = m.opts.Algorithms[0]
	}
	if !ValidAlgorithm(alg) {
		return nil, fmt.Errorf("keys: unsupported algorithm %q", alg)
	}
	k, err := m.rotate(ctx, alg, delay)
	if err != nil {
		return nil, err
	}
	if m.opts.OnRotate != nil {
		m.opts.OnRotate(ctx)
	}
	return k, nil
}

func (m *Manager) rotate(ctx context.Context, alg string, delay time.Duration) (*store.SigningKey, error) {
	activeAt := m.opts.Now().Add(delay)
	k, err := NewSigningKey(alg, m.sealer, activeAt)
	if err != nil {
		return nil, err
	}
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
	for _, alg := range m.opts.Algorithms {
		cur := s.signing(alg, now)
		if cur == nil || s.next[alg] != nil || now.Sub(cur.activeAt) < m.opts.RotateEvery {
			continue
		}
		if _, err := m.Rotate(ctx, alg); err != nil {
			return err
		}
	}
	return nil
}

// JWKS returns the JSON Web Key Set document of every published key. The slice
// is shared: do not modify it.
func (m *Manager) JWKS() []byte { return m.snap.Load().jwks }

// CurrentKeyID returns the kid of the current key for alg ("" = default).
func (m *Manager) CurrentKeyID(alg string) string {
	if alg == "" {
		alg = m.opts.Algorithms[0]
	}
	if k := m.snap.Load().signing(alg, m.opts.Now()); k != nil {
		return k.id
	}
	return ""
}

// Algorithms returns the algorithms this Manager keeps current keys for.
func (m *Manager) Algorithms() []string { return slices.Clone(m.opts.Algorithms) }

// Sign returns a compact JWS of payload signed with the current key of alg
// ("" = default), with header typ (e.g. "at+jwt", RFC 9068 §2.1) and kid.
func (m *Manager) Sign(alg, typ string, payload []byte) (string, error) {
	if alg == "" {
		alg = m.opts.Algorithms[0]
	}
	s := m.snap.Load()
	k := s.signing(alg, m.opts.Now())
	if k == nil {
		return "", fmt.Errorf("%w %s", ErrNoKey, alg)
	}
	sk := signerKey{k.id, typ}
	v, ok := s.signers.Load(sk)
	if !ok {
		opts := (&jose.SignerOptions{}).WithType(jose.ContentType(typ))
		signer, err := jose.NewSigner(jose.SigningKey{
			Algorithm: k.alg,
			Key:       jose.JSONWebKey{Key: k.priv, KeyID: k.id, Algorithm: string(k.alg)},
		}, opts)
		if err != nil {
			return "", err
		}
		v, _ = s.signers.LoadOrStore(sk, signer)
	}
	jws, err := v.(jose.Signer).Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// Verify checks a compact JWS against the published keys and its typ header
// (compared case-insensitively, RFC 7515 §4.1.9; "" skips the check) and
// returns the payload. It does not look at claims: that is the caller's job.
func (m *Manager) Verify(ctx context.Context, token, typ string) ([]byte, error) {
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
	if k == nil {
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

// signing is the key that signs for alg at now: the pre-published next key
// once its time has come, else the current one.
func (s *snapshot) signing(alg string, now time.Time) *liveKey {
	if n := s.next[alg]; n != nil && !now.Before(n.activeAt) {
		return n
	}
	return s.current[alg]
}
