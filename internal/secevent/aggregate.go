package secevent

import (
	"hash/maphash"
	"maps"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// refusalTypes are the events an attacker can make us emit as fast as they
// can send requests, because each is the refusal of a request anyone may
// make. They are counted per aggregation key and window instead of written
// one row each, so a flood costs a bounded number of rows.
//
// Not here: refresh.reused and code.reused (each needs a token or code we
// issued, and revokes the grant it came from, whose rows go with it, so
// replaying one yields an event or two, not a stream; and each is a theft
// signal an auditor wants on its own),
// and token.issued and token.introspected (they need an authenticated
// client; they are the volume events below, counted per client instead).
var refusalTypes = [...]string{
	RateLimitExceeded, ClientAuthFailed, LoginFailed, TokenEnumeration, AdminAuthFailed, LoginLockedOut,
	DeviceUserCodeFailed,
}

// volumeTypes are the events of the hot paths themselves: one per token
// issued, one per introspection. They record nothing an auditor needs a row
// each for (the client, the grant), and written a row each they would put a
// durable write behind every token. Options.TokenEvents says what becomes of
// them: counted per (type, client, grant_type) and window into one row
// (aggregate, the default), one in Options.SampleEvery written as a row
// (sample), or only counted in the metrics (off).
var volumeTypes = [...]string{TokenIssued, TokenIntrospected}

// The aggregator's per-type arrays are sized for the refusals; the volume
// types must fit in them.
var _ [len(refusalTypes) - len(volumeTypes)]struct{}

// volumeIndex is typ's index in volumeTypes, or -1.
func volumeIndex(typ string) int {
	switch typ {
	case TokenIssued:
		return 0
	case TokenIntrospected:
		return 1
	}
	return -1
}

// refusalIndex is typ's index in refusalTypes, or -1 when typ is written one
// row per event. A switch, not a map: it runs on every Emit.
func refusalIndex(typ string) int {
	switch typ {
	case RateLimitExceeded:
		return 0
	case ClientAuthFailed:
		return 1
	case LoginFailed:
		return 2
	case TokenEnumeration:
		return 3
	case AdminAuthFailed:
		return 4
	case LoginLockedOut:
		return 5
	case DeviceUserCodeFailed:
		return 6
	}
	return -1
}

// aggKey is what an auditor needs to tell one attack from another: what was
// refused, from where, against which client or account, and by which
// defence. The source is an IPv4 address or an IPv6 /64, the unit the rate
// limiter charges (a single host usually holds a whole /64).
type aggKey struct {
	typ     string
	ip      string       // an IPv4 address, or the IP as given when it is not an address (bounded)
	net     netip.Prefix // an IPv6 source's /64
	client  string
	subject string
	// detail is the one Detail value the aggregator keys by: "limit" (which
	// limit refused) for refusals, "grant_type" for token events.
	detail string
}

// maxRawIP bounds the part of an unparseable IP that goes into a key; the IP
// comes from the request and should never be long.
const maxRawIP = 64

// source fills in k's source from ip. IPv4 text is used as it is: parsing
// it would cost more than the rest of Emit and change nothing but the key of
// malformed input.
func (k *aggKey) source(ip string) {
	if strings.IndexByte(ip, ':') < 0 {
		k.ip = ip[:min(len(ip), maxRawIP)]
		return
	}
	a, err := netip.ParseAddr(ip)
	switch {
	case err != nil:
		k.ip = ip[:min(len(ip), maxRawIP)]
	case a.Is4In6():
		k.ip = a.Unmap().String() // one source however it is spelled
	default:
		k.net, _ = a.WithZone("").Prefix(64) // cannot fail: 64 is within an IPv6 address
	}
}

// hash is k's hash; i is k.typ's refusal index. Hashing the fields one by
// one, skipping the empty ones (a refusal usually has no client or no
// subject), costs half of hashing the struct, and keying the shard's map by
// the result saves the map a second hash; entry.key settles collisions.
func (k *aggKey) hash(seed maphash.Seed, i int) uint64 {
	const m = 0x9e3779b97f4a7c15 // odd, so each step keeps every bit of what came before
	h := uint64(i + 1)
	for f, s := range [...]string{k.ip, k.client, k.subject, k.detail} {
		if s != "" {
			h = (h^uint64(f))*m ^ maphash.String(seed, s)
		}
	}
	if k.net.IsValid() {
		h = h*m ^ maphash.Comparable(seed, k.net)
	}
	return h
}

// entry is one key's window so far. Its counters are atomics because Emit
// updates them under the shard's read lock: a flood from one source, all on
// one key, then costs a few atomic adds instead of a fight for a mutex.
type entry struct {
	key   aggKey
	next  *entry // another key with the same hash, which practically never happens
	first Event  // the first occurrence, which went to the queue
	count atomic.Uint64
	last  atomic.Int64 // the latest occurrence's time, in Unix ns
	mixed atomic.Bool  // they came from more than one address of the /64, or spelling
}

func (en *entry) add(e *Event) {
	en.count.Add(1)
	t := e.Time.UnixNano()
	for {
		old := en.last.Load()
		if t <= old || en.last.CompareAndSwap(old, t) {
			break
		}
	}
	if e.IP != en.first.IP && !en.mixed.Load() {
		en.mixed.Store(true)
	}
}

// shards spread the keys over several locks, so a flood from many sources
// does not serialise every request on one lock.
const shards = 16

type shard struct {
	mu    sync.RWMutex
	m     map[uint64]*entry
	spare map[uint64]*entry // the previous window's map, cleared; the writer's
	// Counters live with the lock Emit takes anyway, so counting adds no
	// cache line for the cores to pass around.
	spills [len(refusalTypes)]atomic.Uint64 // this window's, per type
	// drained and drainedSpills are the counts of past windows (spills
	// included in drained), changed under mu held for writing.
	drained, drainedSpills uint64
	_                      [16]byte // to 128 bytes: two cache lines, so shards seldom share one
}

func (sh *shard) find(h uint64, k *aggKey) *entry {
	for en := sh.m[h]; en != nil; en = en.next {
		if en.key == *k {
			return en
		}
	}
	return nil
}

// aggregator counts refusals, or (coarse) token events. Emit calls count;
// the writer calls drain at the end of each window and on shutdown.
type aggregator struct {
	seed       maphash.Seed
	shard      [shards]shard
	keys       atomic.Int64 // keys in all shards' current maps
	max        int64        // Options.MaxKeys
	spillFirst [len(refusalTypes)]atomic.Bool
	// types names the overflow rows, by index (refusalTypes or volumeTypes).
	types []string
	// detailKey is the Detail entry that is part of the key.
	detailKey string
	// coarse keys by type, client and detail only, and writes rows with no
	// address or subject: a token event's row is a client's volume, not a
	// trail of who got which token.
	coarse bool
}

func (a *aggregator) init(maxKeys int, types []string, detailKey string, coarse bool) {
	a.seed = maphash.MakeSeed()
	a.max = int64(maxKeys)
	a.types, a.detailKey, a.coarse = types, detailKey, coarse
	for i := range a.shard {
		a.shard[i].m = make(map[uint64]*entry)
	}
}

// outcome says what count did with an occurrence.
type outcome uint8

const (
	counted      outcome = iota // added to its key's count
	queued                      // first of its key in the window, queued to be written at once
	folded                      // first of its key, but the queue was full, so counted
	spilled                     // over the key cap, added to its type's overflow count
	spilledFirst                // the same, and the first of its type in the window
	afterClose                  // the Pipeline is closed: dropped
)

// count files e, of refusal type i, under its key. A new key's occurrence is
// offered to enqueue, which must not block.
//
// closed is checked under the shard's lock, and the final drain takes every
// shard's lock after closed is set, so an occurrence is either in a map the
// final drain reads or refused as afterClose: none is counted and then lost.
func (a *aggregator) count(i int, e *Event, closed *atomic.Bool, enqueue func(Event) bool) outcome {
	k := aggKey{typ: e.Type, client: e.ClientID, detail: e.Detail[a.detailKey]}
	if !a.coarse {
		k.subject = e.Subject
		k.source(e.IP)
	}
	h := k.hash(a.seed, i)
	sh := &a.shard[h%shards]
	sh.mu.RLock()
	if closed.Load() {
		sh.mu.RUnlock()
		return afterClose
	}
	if en := sh.find(h, &k); en != nil {
		en.add(e)
		sh.mu.RUnlock()
		return counted
	}
	// The cap is what keeps a botnet's million addresses (or one address
	// cycling through client_ids) from costing a million rows and entries.
	if a.keys.Load() >= a.max {
		out := a.spill(sh, i)
		sh.mu.RUnlock()
		return out
	}
	sh.mu.RUnlock()

	sh.mu.Lock()
	defer sh.mu.Unlock()
	if closed.Load() {
		return afterClose
	}
	if en := sh.find(h, &k); en != nil { // another Emit added it meanwhile
		en.add(e)
		return counted
	}
	if a.keys.Add(1) > a.max {
		a.keys.Add(-1)
		return a.spill(sh, i)
	}
	en := &entry{key: k, first: *e, next: sh.m[h]}
	en.last.Store(e.Time.UnixNano())
	sh.m[h] = en
	if !enqueue(*e) {
		// Counted rather than dropped: the window's row will carry it.
		en.add(e)
		return folded
	}
	return queued
}

func (a *aggregator) spill(sh *shard, i int) outcome {
	sh.spills[i].Add(1)
	if f := &a.spillFirst[i]; !f.Load() && f.CompareAndSwap(false, true) {
		return spilledFirst
	}
	return spilled
}

// aggregated and overflowed are the totals so far: what the shards drained
// plus what their current maps hold. They are summed under the shards' read
// locks, so a drain in progress neither hides nor doubles a count. Scraping
// them costs a walk over at most MaxKeys entries, which keeps one more
// shared counter off Emit's path.
func (a *aggregator) aggregated() (n uint64) {
	for i := range a.shard {
		sh := &a.shard[i]
		sh.mu.RLock()
		n += sh.drained + sh.liveSpills()
		for _, en := range sh.m {
			for ; en != nil; en = en.next {
				n += en.count.Load()
			}
		}
		sh.mu.RUnlock()
	}
	return n
}

func (a *aggregator) overflowed() (n uint64) {
	for i := range a.shard {
		sh := &a.shard[i]
		sh.mu.RLock()
		n += sh.drainedSpills + sh.liveSpills()
		sh.mu.RUnlock()
	}
	return n
}

func (sh *shard) liveSpills() (n uint64) {
	for t := range sh.spills {
		n += sh.spills[t].Load()
	}
	return n
}

// window is the span a drain closes, formatted once for all its rows.
type window struct {
	start, end string
	endTime    time.Time
}

func newWindow(start, end time.Time) window {
	return window{
		start:   start.UTC().Format(time.RFC3339Nano),
		end:     end.UTC().Format(time.RFC3339Nano),
		endTime: end,
	}
}

// drain ends the window: every key's count (when it has one beyond the
// occurrence already written) and every type's overflow becomes one Event,
// passed to row. The maps are swapped under their locks and read after, so
// row may be slow (it writes) without holding up Emit. Only one goroutine
// may drain at a time.
func (a *aggregator) drain(w window, row func(Event)) {
	var spills [len(refusalTypes)]uint64
	for i := range a.shard {
		sh := &a.shard[i]
		next := sh.spare
		if next == nil {
			next = make(map[uint64]*entry)
		}
		sh.mu.Lock()
		cur := sh.m
		sh.m = next
		keys := 0
		for _, en := range cur {
			for ; en != nil; en = en.next {
				keys++
				sh.drained += en.count.Load()
			}
		}
		a.keys.Add(-int64(keys))
		for t := range spills {
			n := sh.spills[t].Swap(0)
			spills[t] += n
			sh.drained += n
			sh.drainedSpills += n
		}
		sh.mu.Unlock()
		// No Emit can reach cur's entries any more: it found them under the
		// read lock, and every such lock was released before ours was taken.
		for _, en := range cur {
			for ; en != nil; en = en.next {
				if en.count.Load() > 0 {
					row(en.row(w, a.coarse, a.detailKey))
				}
			}
		}
		clear(cur)
		sh.spare = cur
	}
	for t, typ := range a.types {
		a.spillFirst[t].Store(false)
		if n := spills[t]; n > 0 {
			row(Event{Type: typ, IP: overflowIP, Time: w.endTime, Detail: map[string]string{
				"count": strconv.FormatUint(n, 10), "window_start": w.start, "window_end": w.end,
				"overflow": "true",
			}})
		}
	}
}

// overflowIP marks the row that counts, per type and window, the refusals
// whose keys came after the cap was reached.
const overflowIP = "other"

// row is the window's aggregate row for en: the first occurrence's fields
// and Detail, plus the count of the occurrences not written one by one. A
// coarse row is the key alone (type, client, the keyed Detail) and counts
// every occurrence, none of which was written.
func (en *entry) row(w window, coarse bool, detailKey string) Event {
	d := make(map[string]string, len(en.first.Detail)+3)
	if coarse {
		if en.key.detail != "" {
			d[detailKey] = en.key.detail
		}
	} else {
		maps.Copy(d, en.first.Detail)
	}
	d["count"] = strconv.FormatUint(en.count.Load(), 10)
	d["window_start"], d["window_end"] = w.start, w.end
	if coarse {
		return Event{Type: en.first.Type, ClientID: en.first.ClientID, Detail: d, Time: time.Unix(0, en.last.Load()).UTC()}
	}
	ip := en.first.IP
	if en.mixed.Load() { // one source under several addresses or spellings
		ip = en.key.ip
		if en.key.net.IsValid() {
			ip = en.key.net.String()
		}
	}
	return Event{Type: en.first.Type, ClientID: en.first.ClientID, Subject: en.first.Subject, IP: ip,
		Detail: d, Time: time.Unix(0, en.last.Load()).UTC()}
}
