package keys

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/authd/authd/internal/store"
)

// MasterKey wraps and unwraps data keys. A local key (LocalMaster) is the
// default; a KMS can implement this interface later, since authd never needs
// the master key itself, only these two operations.
type MasterKey interface {
	// ID names the key without revealing it; stored with what it wrapped.
	ID() string
	Wrap(plaintext, aad []byte) ([]byte, error)
	Unwrap(wrapped, aad []byte) ([]byte, error)
}

// LocalMaster is a 32-byte master key held in memory (from AUTHD_MASTER_KEY
// or AUTHD_MASTER_KEY_FILE).
type LocalMaster struct {
	id     string
	raw    []byte
	sealer *Sealer
}

// NewLocalMaster returns the master key of raw (32 bytes).
func NewLocalMaster(raw []byte) (*LocalMaster, error) {
	s, err := NewSealer(raw)
	if err != nil {
		return nil, err
	}
	// An id that reveals nothing: a hash under a fixed label, 64 bits.
	sum := sha256.Sum256(append([]byte("authd master key id\x00"), raw...))
	return &LocalMaster{id: base64.RawURLEncoding.EncodeToString(sum[:8]), raw: append([]byte(nil), raw...), sealer: s}, nil
}

// ID implements MasterKey.
func (m *LocalMaster) ID() string { return m.id }

// Wrap implements MasterKey (AES-256-GCM, aad bound).
func (m *LocalMaster) Wrap(plaintext, aad []byte) ([]byte, error) {
	return m.sealer.Seal(plaintext, aad), nil
}

// Unwrap implements MasterKey.
func (m *LocalMaster) Unwrap(wrapped, aad []byte) ([]byte, error) { return m.sealer.Open(wrapped, aad) }

// derive is what a key of label was before data keys were stored: a
// deployment upgrading keeps every token, form and sealed key it had.
func (m *LocalMaster) derive(label string) ([]byte, error) { return DeriveKey(m.raw, label) }

// Keyring is the current master key and, while a rotation rolls out, the
// ones before it that may still have wrapped something.
type Keyring struct {
	Current  MasterKey
	Previous []MasterKey
}

func (r Keyring) byID(id string) MasterKey {
	if r.Current != nil && r.Current.ID() == id {
		return r.Current
	}
	for _, m := range r.Previous {
		if m.ID() == id {
			return m
		}
	}
	return nil
}

func (r Keyring) ids() string {
	var ids []string
	for _, m := range append([]MasterKey{r.Current}, r.Previous...) {
		if m != nil {
			ids = append(ids, m.ID())
		}
	}
	return strings.Join(ids, ", ")
}

// DataKeyStore keeps the wrapped data keys (store.DataKeys).
type DataKeyStore interface {
	AddDataKey(ctx context.Context, k *store.DataKey) (*store.DataKey, error)
	DataKeys(ctx context.Context) ([]*store.DataKey, error)
	RewrapDataKeys(ctx context.Context, fromMasterID string, ks []*store.DataKey) error
}

// ErrUnknownMaster: a data key is wrapped by a master key that is not
// configured.
var ErrUnknownMaster = errors.New("keys: data key wrapped by a master key that is not configured")

func aadForDataKey(label string) []byte { return []byte("authd data key " + label) }

// LoadDataKeys returns every data key of Labels, unwrapping those stored and
// storing those not yet there. A new one is what DeriveKey gave before data
// keys existed when the current master is local, so an upgrade changes
// nothing; random otherwise.
func LoadDataKeys(ctx context.Context, st DataKeyStore, ring Keyring, now time.Time) (*Derived, error) {
	stored, err := st.DataKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("keys: load data keys: %w", err)
	}
	byLabel := map[string]*store.DataKey{}
	for _, k := range stored {
		byLabel[k.Label] = k
	}
	vals := map[string][]byte{}
	for _, label := range Labels {
		k := byLabel[label]
		if k == nil {
			if k, err = addDataKey(ctx, st, ring.Current, label, now); err != nil {
				return nil, err
			}
		}
		m := ring.byID(k.MasterID)
		if m == nil {
			return nil, fmt.Errorf("%w: %s is wrapped by master key %s; configured: %s (set AUTHD_MASTER_KEY to it, or keep it in AUTHD_MASTER_KEY_PREVIOUS until authd keys rotate-master has run)",
				ErrUnknownMaster, label, k.MasterID, ring.ids())
		}
		v, err := m.Unwrap(k.Wrapped, aadForDataKey(label))
		if err != nil {
			return nil, fmt.Errorf("keys: data key %s does not open under master key %s: %w", label, k.MasterID, err)
		}
		vals[label] = v
	}
	return &Derived{
		SigningKeys: vals[LabelSigningKeys], RedisCache: vals[LabelRedisCache], TokenTag: vals[LabelTokenTag],
		CSRF: vals[LabelCSRF], LimiterNames: vals[LabelLimiterNames], DecoyParams: vals[LabelDecoyParams],
		ClientSecrets: vals[LabelClientSecret], DPoPNonces: vals[LabelDPoPNonces], TokenSeal: vals[LabelTokenSeal],
	}, nil
}

func addDataKey(ctx context.Context, st DataKeyStore, m MasterKey, label string, now time.Time) (*store.DataKey, error) {
	var v []byte
	if lm, ok := m.(*LocalMaster); ok {
		var err error
		if v, err = lm.derive(label); err != nil {
			return nil, err
		}
	} else {
		v = randomKey()
	}
	w, err := m.Wrap(v, aadForDataKey(label))
	if err != nil {
		return nil, err
	}
	k, err := st.AddDataKey(ctx, &store.DataKey{Label: label, MasterID: m.ID(), Wrapped: w, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		return nil, fmt.Errorf("keys: store data key %s: %w", label, err)
	}
	return k, nil
}

// RotateMaster wraps every data key again under to: afterwards authd needs
// only to (and nothing it issued before changes: the data keys are the
// same). Replicas running meanwhile hold their data keys in memory and go
// on serving. It returns how many keys it wrapped again.
func RotateMaster(ctx context.Context, st DataKeyStore, from Keyring, to MasterKey, now time.Time) (int, error) {
	stored, err := st.DataKeys(ctx)
	if err != nil {
		return 0, err
	}
	byMaster := map[string][]*store.DataKey{}
	for _, k := range stored {
		if k.MasterID == to.ID() {
			continue // already under it (a rotation run twice)
		}
		m := from.byID(k.MasterID)
		if m == nil {
			return 0, fmt.Errorf("%w: %s is wrapped by %s; configured: %s", ErrUnknownMaster, k.Label, k.MasterID, from.ids())
		}
		v, err := m.Unwrap(k.Wrapped, aadForDataKey(k.Label))
		if err != nil {
			return 0, fmt.Errorf("keys: data key %s does not open under master key %s: %w", k.Label, k.MasterID, err)
		}
		w, err := to.Wrap(v, aadForDataKey(k.Label))
		if err != nil {
			return 0, err
		}
		byMaster[k.MasterID] = append(byMaster[k.MasterID], &store.DataKey{Label: k.Label, MasterID: to.ID(), Wrapped: w, CreatedAt: k.CreatedAt, UpdatedAt: now})
	}
	n := 0
	for fromID, ks := range byMaster {
		if err := st.RewrapDataKeys(ctx, fromID, ks); err != nil {
			return n, fmt.Errorf("keys: wrap data keys again: %w", err)
		}
		n += len(ks)
	}
	return n, nil
}

func randomKey() []byte {
	b := make([]byte, MasterKeySize)
	if _, err := rand.Read(b); err != nil {
		panic("keys: crypto/rand failed: " + err.Error())
	}
	return b
}
