package keys

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/internal/store"
)

// memKeys is a KeyStore in memory: what Reload does with each record is the
// question here, not storage.
type memKeys struct {
	mu   sync.Mutex
	keys []*store.SigningKey
}

func (s *memKeys) RotateKey(_ context.Context, k *store.SigningKey, publishUntil time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.keys {
		if o.Algorithm == k.Algorithm && o.Purpose == k.Purpose && o.PublishUntil.IsZero() {
			o.PublishUntil = publishUntil
		}
	}
	c := *k
	s.keys = append(s.keys, &c)
	return nil
}

func (s *memKeys) SigningKeys(_ context.Context, _ time.Time) ([]*store.SigningKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*store.SigningKey, len(s.keys))
	for i, k := range s.keys {
		c := *k
		c.PrivateKey = slices.Clone(k.PrivateKey)
		out[i] = &c
	}
	return out, nil
}

func TestReloadReusesOpenedKeys(t *testing.T) {
	ctx := context.Background()
	st := &memKeys{}
	sealer, _ := NewSealer(bytes.Repeat([]byte{7}, 32))
	m, err := NewManager(st, sealer, Options{Algorithms: []string{ES256, RS256}, Retain: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Load(ctx); err != nil {
		t.Fatal(err)
	}
	privs := func() map[string]any {
		out := map[string]any{}
		for kid, k := range m.snap.Load().byKID {
			out[kid] = k.priv
		}
		return out
	}
	before, snapBefore := privs(), m.snap.Load()
	if len(before) != 2 {
		t.Fatalf("%d keys, want 2", len(before))
	}
	if err := m.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	for kid, p := range privs() {
		if p != before[kid] {
			t.Fatalf("key %s was opened again though its record had not changed", kid)
		}
		// Each snapshot has keys of its own: the old one may still be read.
		if m.snap.Load().byKID[kid] == snapBefore.byKID[kid] {
			t.Fatalf("key %s is shared between snapshots", kid)
		}
	}
	if _, err := m.Sign(ES256, "at+jwt", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}

	// A record sealed anew (a master key rotation rewrites it) is opened
	// again; one that no longer opens fails the reload.
	st.mu.Lock()
	es := st.keys[0]
	der, err := sealer.Open(es.PrivateKey, aadFor(es.ID))
	if err != nil {
		t.Fatal(err)
	}
	es.PrivateKey = sealer.Seal(der, aadFor(es.ID))
	st.mu.Unlock()
	if err := m.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	after := privs()
	if after[es.ID] == before[es.ID] {
		t.Fatal("a record sealed anew was not opened again")
	}
	for kid := range after {
		if kid != es.ID && after[kid] != before[kid] {
			t.Fatalf("the unchanged key %s was opened again", kid)
		}
	}
	st.mu.Lock()
	es.PrivateKey[len(es.PrivateKey)-1] ^= 1
	st.mu.Unlock()
	if err := m.Reload(ctx); err == nil {
		t.Fatal("a record that does not open was taken from the last reload")
	}

	// A key gone from the store is forgotten.
	st.mu.Lock()
	st.keys = st.keys[1:]
	st.mu.Unlock()
	if err := m.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.opened[es.ID]; ok || len(m.opened) != 1 {
		t.Fatalf("opened holds %d keys after one was removed", len(m.opened))
	}
}
