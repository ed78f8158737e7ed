package secevent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authd/authd/internal/store"
)

// Sink stores audit events; store.Audit is one. It must not keep the slice
// or the events after it returns: the Pipeline reuses them. An error that
// wraps store.ErrUnavailable (or context.DeadlineExceeded) means a retry may
// succeed, and the batch is retried; any other error means the store rejects
// the rows, and they are lost.
type Sink interface {
	AppendAudit(ctx context.Context, events []*store.AuditEvent) error
}

// Defaults for the zero fields of Options.
const (
	DefaultQueueSize    = 10_000
	DefaultMaxBatch     = 500
	DefaultFlushEvery   = 200 * time.Millisecond
	DefaultWriteTimeout = 5 * time.Second
	DefaultRetryFor     = 30 * time.Second
	DefaultWindow       = time.Minute
	DefaultMaxKeys      = 1024
	DefaultMaxWarnings  = 20
)

// The backoff between attempts at one batch: doubling from retryFirst, at
// most retryMax, so a blip of a second costs a few quick retries and a long
// outage one attempt every few seconds.
const (
	retryFirst = 100 * time.Millisecond
	retryMax   = 5 * time.Second
)

// Options tune a Pipeline. Zero fields take the defaults.
type Options struct {
	// QueueSize bounds the events waiting to be written; beyond it Emit drops.
	QueueSize int
	// MaxBatch caps the events in one AppendAudit call; a full batch is
	// written at once.
	MaxBatch int
	// FlushEvery is the longest a queued event waits for its batch to fill.
	FlushEvery time.Duration
	// WriteTimeout bounds one AppendAudit call.
	WriteTimeout time.Duration
	// RetryFor bounds the retries of a batch the sink failed to store for a
	// reason that may pass (a connection cut, a failover): once the waits
	// between attempts add up to RetryFor, the batch is given up (counted in
	// WriteErrors and Lost). While a batch is retried nothing else is
	// written, so the queue fills and Emit drops, as with a slow sink.
	RetryFor time.Duration
	// Window is the span over which refusals are aggregated (see the package
	// documentation) and over which MaxWarnings applies. Windows are aligned
	// to multiples of Window (whole minutes by default) and end at the first
	// flush after their end, so a row's window_end may be up to FlushEvery
	// late, and later still while a write is being retried.
	Window time.Duration
	// MaxKeys caps the distinct aggregation keys in one window; refusals
	// with a new key beyond it are counted in one overflow row per type.
	// It bounds both memory and rows: a window writes at most 2*MaxKeys rows
	// of refusals plus one overflow row per refusal type.
	MaxKeys int
	// MaxWarnings caps the WARN lines for notable events in one window; the
	// line that ends the window counts the ones held back. Negative: no such
	// lines at all.
	MaxWarnings int
	// Logger receives write errors, drop counts and, rate-limited, a WARN
	// line for each notable security event; default discards.
	Logger *slog.Logger
	// Now stamps events emitted without a Time; default time.Now.
	Now func() time.Time
	// TokenEvents says what becomes of token.issued and token.introspected,
	// the events of the hot paths: TokenEventsAggregate (the default) counts
	// them per type, client, grant_type and Window into one row each,
	// TokenEventsSample writes one in SampleEvery as a row of its own, and
	// TokenEventsOff writes none. Whatever is not written is counted
	// (TokenEventsAggregated, SampledOut, Off), never lost silently.
	TokenEvents string
	// SampleEvery is the sampling interval of TokenEventsSample; default
	// DefaultSampleEvery.
	SampleEvery int
}

// What becomes of the token events (Options.TokenEvents).
const (
	TokenEventsAggregate = "aggregate"
	TokenEventsSample    = "sample"
	TokenEventsOff       = "off"
)

// DefaultSampleEvery is Options.SampleEvery's default: one token event in a
// hundred is written when sampling.
const DefaultSampleEvery = 100

// Pipeline queues events and writes them to a Sink in batches. Emit is safe
// for concurrent use and never blocks; Run does the writing.
type Pipeline struct {
	sink Sink
	opts Options

	// mu guards closed against the close of queue, so Emit never sends on a
	// closed channel; Emit holds it only for a non-blocking send. closed is
	// atomic so that counting a refusal, which sends nothing, can skip mu:
	// the aggregator's shard locks order it against the final drain.
	mu     sync.RWMutex
	closed atomic.Bool
	queue  chan Event

	running atomic.Bool   // someone (Run, or Close) consumes the queue
	done    chan struct{} // closed once the queue is drained and flushed
	// ctx parents every write; Close cancels it when its own ctx ends, so a
	// stuck sink cannot hold shutdown past the caller's deadline.
	ctx   context.Context
	abort context.CancelFunc

	agg  aggregator
	vol  aggregator // token events, when TokenEvents is aggregate
	warn warner
	// windowStart and windowEnd are the writer's: the current window began
	// at windowStart and is closed at the first flush at or after windowEnd.
	windowStart, windowEnd time.Time

	emitted, dropped, written, writeErrors atomic.Uint64
	retries, lost                          atomic.Uint64
	// sampleSeq numbers the sampled token events; sampledOut and off count
	// the token events that were not written (sample, off).
	sampleSeq, sampledOut, off atomic.Uint64
	// byType counts every Emit by event type (string → *atomic.Uint64), for
	// a metric that shows reuse, lockouts or enumeration as they happen.
	byType sync.Map
}

// New returns a Pipeline writing to sink. Nothing is written until Run is
// called.
func New(sink Sink, opts Options) *Pipeline {
	if opts.QueueSize <= 0 {
		opts.QueueSize = DefaultQueueSize
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = DefaultMaxBatch
	}
	if opts.FlushEvery <= 0 {
		opts.FlushEvery = DefaultFlushEvery
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = DefaultWriteTimeout
	}
	if opts.RetryFor <= 0 {
		opts.RetryFor = DefaultRetryFor
	}
	if opts.Window <= 0 {
		opts.Window = DefaultWindow
	}
	if opts.MaxKeys <= 0 {
		opts.MaxKeys = DefaultMaxKeys
	}
	if opts.MaxWarnings == 0 {
		opts.MaxWarnings = DefaultMaxWarnings
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.TokenEvents == "" {
		opts.TokenEvents = TokenEventsAggregate
	}
	if opts.SampleEvery <= 0 {
		opts.SampleEvery = DefaultSampleEvery
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Pipeline{
		sink:  sink,
		opts:  opts,
		queue: make(chan Event, opts.QueueSize),
		done:  make(chan struct{}),
		ctx:   ctx,
		abort: cancel,
		warn:  warner{log: opts.Logger, max: int64(opts.MaxWarnings)},
	}
	p.agg.init(opts.MaxKeys, refusalTypes[:], "limit", false)
	p.vol.init(opts.MaxKeys, volumeTypes[:], "grant_type", true)
	for _, typ := range Types() {
		p.byType.Store(typ, new(atomic.Uint64))
	}
	p.windowStart = opts.Now()
	p.windowEnd = p.nextWindowEnd(p.windowStart)
	return p
}

func (p *Pipeline) nextWindowEnd(now time.Time) time.Time {
	return now.Truncate(p.opts.Window).Add(p.opts.Window)
}

// Emit records e and returns at once; it never blocks on the sink, the
// queue or the log. Most events are queued to be written one row each; if
// the queue is full, or the Pipeline is closed, e is dropped and counted in
// Dropped: a request must never wait for the audit trail. A refusal (see the
// package documentation) is queued only when it is the first of its key in
// the window, and otherwise counted (in Aggregated) for the window's
// aggregate row; a full queue does not drop it but counts it too. A notable
// event is also logged at WARN, within Options.MaxWarnings.
func (p *Pipeline) Emit(e Event) {
	if e.Time.IsZero() {
		e.Time = p.opts.Now()
	}
	p.count(e.Type)
	if i := refusalIndex(e.Type); i >= 0 {
		p.emitRefusal(i, &e)
		return
	}
	if i := volumeIndex(e.Type); i >= 0 && p.emitVolume(i, &e) {
		return
	}
	// enqueue, by hand: this is the path of nearly every event, and the
	// call, which copies the Event, was measurably slower.
	p.mu.RLock()
	ok := false
	if !p.closed.Load() {
		select {
		case p.queue <- e:
			ok = true
		default:
		}
	}
	p.mu.RUnlock()
	if ok {
		p.emitted.Add(1)
	} else {
		p.dropped.Add(1)
	}
	// Logged even when the queue is full: the operator should hear of a
	// stolen token most of all when the audit trail cannot keep up.
	if notable(e.Type) {
		p.warn.event(e)
	}
}

func (p *Pipeline) emitRefusal(i int, e *Event) {
	out := p.agg.count(i, e, &p.closed, p.enqueue)
	switch {
	case out == afterClose:
		p.dropped.Add(1)
	case out == spilledFirst:
		p.warn.spill(e.Type, p.agg.max)
	case (out == queued || out == folded) && notable(e.Type):
		p.warn.event(*e)
	}
}

// emitVolume files a token event as Options.TokenEvents says, and reports
// whether it is done with it; false means e is sampled in, to be queued as
// any other event. Aggregated, it never touches the queue, so a flood of
// tokens neither costs a row each nor crowds other events out.
func (p *Pipeline) emitVolume(i int, e *Event) bool {
	switch p.opts.TokenEvents {
	case TokenEventsOff:
		p.off.Add(1)
		return true
	case TokenEventsSample:
		if p.sampleSeq.Add(1)%uint64(p.opts.SampleEvery) != 0 {
			p.sampledOut.Add(1)
			return true
		}
		// The row says it stands for SampleEvery events. A copy, one event
		// in SampleEvery: callers may share one Detail between events.
		d := make(map[string]string, len(e.Detail)+1)
		maps.Copy(d, e.Detail)
		d["sampled"] = p.sampleTag()
		e.Detail = d
		return false
	}
	if p.vol.count(i, e, &p.closed, noQueue) == afterClose {
		p.dropped.Add(1)
	}
	return true
}

func (p *Pipeline) sampleTag() string { return "1/" + strconv.Itoa(p.opts.SampleEvery) }

// noQueue keeps the first token event of a key off the queue: the window's
// row counts it with the rest.
func noQueue(Event) bool { return false }

// enqueue offers e to the queue without waiting, and reports whether it was
// taken: not when the queue is full or the Pipeline closed.
func (p *Pipeline) enqueue(e Event) bool {
	ok := false
	p.mu.RLock()
	if !p.closed.Load() {
		select {
		case p.queue <- e:
			ok = true
		default:
		}
	}
	p.mu.RUnlock()
	if ok {
		p.emitted.Add(1)
	}
	return ok
}

// Emitted is the number of events accepted onto the queue. Every Emit is
// counted in exactly one of Emitted, Aggregated, TokenEventsAggregated,
// SampledOut, Off and Dropped.
func (p *Pipeline) Emitted() uint64 { return p.emitted.Load() }

func (p *Pipeline) count(typ string) {
	c, ok := p.byType.Load(typ)
	if !ok {
		c, _ = p.byType.LoadOrStore(typ, new(atomic.Uint64))
	}
	c.(*atomic.Uint64).Add(1)
}

// ByType returns how many events of each type were emitted since New,
// whatever became of them (queued, aggregated or dropped).
func (p *Pipeline) ByType() map[string]uint64 {
	out := map[string]uint64{}
	p.byType.Range(func(k, v any) bool {
		out[k.(string)] = v.(*atomic.Uint64).Load()
		return true
	})
	return out
}

// Dropped is the number of events Emit discarded because the queue was full or
// the Pipeline closed.
func (p *Pipeline) Dropped() uint64 { return p.dropped.Load() }

// Aggregated is the number of refusals counted in an aggregate row instead of
// written one by one (Overflowed included).
func (p *Pipeline) Aggregated() uint64 { return p.agg.aggregated() }

// TokenEventsAggregated is the number of token events (token.issued,
// token.introspected) counted in an aggregate row per client and window
// instead of written one by one (overflow rows included).
func (p *Pipeline) TokenEventsAggregated() uint64 { return p.vol.aggregated() }

// SampledOut is the number of token events not written because sampling
// (TokenEventsSample) passed them over.
func (p *Pipeline) SampledOut() uint64 { return p.sampledOut.Load() }

// Off is the number of token events not written because TokenEvents is off.
func (p *Pipeline) Off() uint64 { return p.off.Load() }

// Overflowed is the number of refusals counted in a type's overflow row
// because their window already had Options.MaxKeys keys: a distributed
// flood, or one source varying client_id or subject.
func (p *Pipeline) Overflowed() uint64 { return p.agg.overflowed() }

// Written is the number of rows the sink stored: one per queued event, one
// per aggregate row.
func (p *Pipeline) Written() uint64 { return p.written.Load() }

// WriteErrors is the number of batches given up: the sink rejected them, or
// kept failing for Options.RetryFor, or Close's deadline passed. Their rows
// are lost (counted in Lost, and logged).
func (p *Pipeline) WriteErrors() uint64 { return p.writeErrors.Load() }

// WriteRetries is the number of failed sink calls that were tried again.
func (p *Pipeline) WriteRetries() uint64 { return p.retries.Load() }

// Lost is the number of rows in the batches counted in WriteErrors.
func (p *Pipeline) Lost() uint64 { return p.lost.Load() }

// Run writes queued events until ctx ends or Close is called, then stops
// accepting events, writes everything still queued and the open window's
// aggregate rows, and returns. Writes are not bound to ctx: its end means
// "shut down", not "abandon what is queued". Only the first call to Run (or
// Close) consumes the queue; a later Run returns at once.
func (p *Pipeline) Run(ctx context.Context) {
	if !p.running.CompareAndSwap(false, true) {
		return
	}
	defer close(p.done)
	b := p.newBatcher()
	tick := time.NewTicker(p.opts.FlushEvery)
	defer tick.Stop()
	stop := ctx.Done()
	for {
		select {
		case e, ok := <-p.queue:
			if !ok { // closed and drained
				b.finish()
				return
			}
			b.add(e)
		case <-tick.C:
			b.flush()
			if now := p.opts.Now(); !now.Before(p.windowEnd) {
				b.closeWindow(now)
				b.flush()
			}
			b.reportDrops()
		case <-stop:
			stop = nil
			p.shutdown() // the queue is drained by the receive case
		}
	}
}

// Close stops accepting events, waits until everything queued and the open
// window's aggregate rows are written, and returns. If Run was never
// started, Close writes them itself. If ctx ends first, Close returns
// ctx.Err() and abandons the write in progress, retries included; it and the
// batches after it fail (counted in WriteErrors and Lost, and logged).
// Calling Close again is safe.
func (p *Pipeline) Close(ctx context.Context) error {
	p.shutdown()
	if p.running.CompareAndSwap(false, true) {
		go func() {
			defer close(p.done)
			b := p.newBatcher()
			for e := range p.queue {
				b.add(e)
			}
			b.finish()
		}()
	}
	select {
	case <-p.done:
		p.abort() // releases the context
		return nil
	case <-ctx.Done():
		p.abort()
		return ctx.Err()
	}
}

func (p *Pipeline) shutdown() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed.Load() {
		p.closed.Store(true)
		close(p.queue)
	}
}

// batcher holds the batch being filled. Its buffers are reused, so steady
// state writes allocate only the Detail JSON. It belongs to the one
// goroutine that consumes the queue.
type batcher struct {
	p        *Pipeline
	rows     []store.AuditEvent
	ptrs     []*store.AuditEvent
	reported uint64 // Dropped as last logged
}

func (p *Pipeline) newBatcher() *batcher {
	b := &batcher{
		p:    p,
		rows: make([]store.AuditEvent, p.opts.MaxBatch),
		ptrs: make([]*store.AuditEvent, 0, p.opts.MaxBatch),
	}
	return b
}

func (b *batcher) add(e Event) {
	i := len(b.ptrs)
	b.rows[i] = store.AuditEvent{
		Time:     e.Time,
		Type:     e.Type,
		ClientID: e.ClientID,
		Subject:  e.Subject,
		IP:       e.IP,
		Detail:   encodeDetail(e.Detail),
	}
	b.ptrs = append(b.ptrs, &b.rows[i])
	if len(b.ptrs) == cap(b.ptrs) {
		b.flush()
	}
}

// closeWindow writes the aggregate rows of the window ending now and starts
// the next one. Shutdown is the end of a window too.
func (b *batcher) closeWindow(now time.Time) {
	p := b.p
	w := newWindow(p.windowStart, now)
	p.windowStart, p.windowEnd = now, p.nextWindowEnd(now)
	p.agg.drain(w, b.add)
	p.vol.drain(w, b.add)
	p.warn.endWindow(w)
}

// finish writes what is left once the queue is closed and drained.
func (b *batcher) finish() {
	b.closeWindow(b.p.opts.Now())
	b.flush()
	b.reportDrops()
}

// flush writes the batch, retrying while the sink's failure may pass.
func (b *batcher) flush() {
	if len(b.ptrs) == 0 {
		return
	}
	p := b.p
	n := len(b.ptrs)
	if err := b.write(); err != nil {
		p.writeErrors.Add(1)
		p.lost.Add(uint64(n))
		p.opts.Logger.LogAttrs(context.Background(), slog.LevelError, "secevent: audit write failed; events lost",
			slog.Int("events", n), slog.String("error", err.Error()))
	} else {
		p.written.Add(uint64(n))
	}
	clear(b.rows[:n])
	clear(b.ptrs)
	b.ptrs = b.ptrs[:0]
}

// write stores the batch. A transient failure (a connection cut, a failover,
// the circuit breaker open) is retried with exponential backoff, so a store
// blip of a few seconds loses nothing; the budget is the sum of the waits,
// Options.RetryFor, so it holds whatever the sink's calls cost. Meanwhile
// the queue is not read, so Emit drops once it is full: the memory bound
// holds. A retry after a write whose answer was lost may store the rows
// twice; a duplicate audit row is better than a missing one. Close's
// deadline ends the retries.
func (b *batcher) write() error {
	p := b.p
	wait, waited := retryFirst, time.Duration(0)
	for {
		if err := p.ctx.Err(); err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(p.ctx, p.opts.WriteTimeout)
		err := p.sink.AppendAudit(ctx, b.ptrs)
		cancel()
		if err == nil {
			if waited > 0 {
				p.opts.Logger.LogAttrs(context.Background(), slog.LevelInfo, "secevent: audit write succeeded after retries",
					slog.Int("events", len(b.ptrs)), slog.Duration("waited", waited))
			}
			return nil
		}
		if !transient(err) || waited >= p.opts.RetryFor || p.ctx.Err() != nil {
			return err
		}
		if waited == 0 {
			p.opts.Logger.LogAttrs(context.Background(), slog.LevelWarn, "secevent: audit write failed; retrying",
				slog.Int("events", len(b.ptrs)), slog.String("error", err.Error()))
		}
		wait = min(wait, p.opts.RetryFor-waited)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-p.ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (gave up retrying: %w)", err, p.ctx.Err())
		}
		p.retries.Add(1)
		waited += wait
		wait = min(2*wait, retryMax)
	}
}

// transient reports whether a retry of a failed write may succeed.
func transient(err error) bool {
	return errors.Is(err, store.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded)
}

// reportDrops logs how many events Emit dropped since the last report: one
// line per flush interval at most, however hard the flood.
func (b *batcher) reportDrops() {
	d := b.p.dropped.Load()
	if d == b.reported {
		return
	}
	b.p.opts.Logger.LogAttrs(context.Background(), slog.LevelWarn, "secevent: events dropped, queue full",
		slog.Uint64("dropped", d-b.reported), slog.Uint64("dropped_total", d))
	b.reported = d
}
