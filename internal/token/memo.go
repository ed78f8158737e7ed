package token

import (
	"sync"
	"sync/atomic"
)

// memo remembers the decoded form of cached values. The in-process cache hands
// back the very same slice until the entry is replaced, so a value whose bytes
// are the same slice as last time needs no second JSON decode: on the hot
// paths that decode was most of the cost of a hit.
//
// It holds at most max entries; past that it starts afresh, which costs one
// decode per key and keeps memory bounded without any eviction bookkeeping.
type memo struct {
	m   atomic.Pointer[sync.Map]
	n   atomic.Int64
	max int64
}

type memoEntry struct {
	raw *byte // identity of the cached slice
	n   int
	v   any // immutable once stored
}

func newMemo(max int64) *memo {
	m := &memo{max: max}
	m.m.Store(&sync.Map{})
	return m
}

// get returns the value decoded from raw, if raw is the slice it was decoded from.
func (m *memo) get(key string, raw []byte) (any, bool) {
	if len(raw) == 0 {
		return nil, false
	}
	e, ok := m.m.Load().Load(key)
	if !ok {
		return nil, false
	}
	me := e.(*memoEntry)
	if me.raw != &raw[0] || me.n != len(raw) {
		return nil, false
	}
	return me.v, true
}

func (m *memo) put(key string, raw []byte, v any) {
	if len(raw) == 0 {
		return
	}
	if m.n.Add(1) > m.max {
		m.m.Store(&sync.Map{})
		m.n.Store(0)
	}
	m.m.Load().Store(key, &memoEntry{raw: &raw[0], n: len(raw), v: v})
}
