package outbound

import (
	"container/list"
	"net/http"
	"sync"
	"time"
)

// entry is what the cache holds for one (Accept, URL): the last good
// document with its validators, and the last failure. Entries are never
// modified once stored; an update stores a new one.
type entry struct {
	doc *Document // nil until a fetch succeeded

	// The validators and freshness fields of the stored response, which a
	// 304 updates (RFC 9111 §4.3.4).
	hdr        http.Header
	staleUntil time.Time // the document may be served stale on error until then

	err     error     // the last fetch's failure; nil after a success
	retryAt time.Time // while err != nil: no new fetch before then
}

func (e *entry) size(key string) int64 {
	n := int64(len(key)) + 256
	if e.doc != nil {
		n += int64(len(e.doc.Body))
	}
	return n
}

// lru is a cache bounded in entries and bytes, least recently used first
// out. Its methods are safe for concurrent use.
type lru struct {
	mu         sync.Mutex
	maxEntries int
	maxBytes   int64
	bytes      int64
	items      map[string]*list.Element
	order      list.List // of *lruItem, most recent at the front
}

type lruItem struct {
	key  string
	e    *entry
	size int64
}

func newLRU(maxEntries int, maxBytes int64) *lru {
	return &lru{maxEntries: maxEntries, maxBytes: maxBytes, items: map[string]*list.Element{}}
}

func (c *lru) get(key string) *entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil
	}
	c.order.MoveToFront(el)
	return el.Value.(*lruItem).e
}

// put stores e under key and returns how many entries it evicted.
func (c *lru) put(key string, e *entry) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	it := &lruItem{key: key, e: e, size: e.size(key)}
	if el, ok := c.items[key]; ok {
		c.bytes -= el.Value.(*lruItem).size
		el.Value = it
		c.order.MoveToFront(el)
	} else {
		c.items[key] = c.order.PushFront(it)
	}
	c.bytes += it.size
	evicted := 0
	for c.order.Len() > 1 && (c.order.Len() > c.maxEntries || c.bytes > c.maxBytes) {
		c.remove(c.order.Back())
		evicted++
	}
	return evicted
}

func (c *lru) delete(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.remove(el)
	}
}

func (c *lru) remove(el *list.Element) {
	it := c.order.Remove(el).(*lruItem)
	delete(c.items, it.key)
	c.bytes -= it.size
}

func (c *lru) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
