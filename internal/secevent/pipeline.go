package secevent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
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
	// Logger receives write errors and drop counts; default discards.
	Logger *slog.Logger
	// Now stamps events emitted without a Time; default time.Now.
	Now func() time.Time
}

// Pipeline queues events and writes them to a Sink in batches. Emit is safe
// for concurrent use and never blocks; Run does the writing.
type Pipeline struct {
	sink Sink
	opts Options

	// mu guards closed against the close of queue, so Emit never sends on a
	// closed channel; Emit holds it only for a non-blocking send.
	mu     sync.RWMutex
	closed bool
	queue  chan Event

	running atomic.Bool   // someone (Run, or Close) consumes the queue
	done    chan struct{} // closed once the queue is drained and flushed
	// ctx parents every write; Close cancels it when its own ctx ends, so a
	// stuck sink cannot hold shutdown past the caller's deadline.
	ctx   context.Context
	abort context.CancelFunc

	emitted, dropped, written, writeErrors atomic.Uint64
	retries, lost                          atomic.Uint64
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
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Pipeline{
		sink:  sink,
		opts:  opts,
		queue: make(chan Event, opts.QueueSize),
		done:  make(chan struct{}),
		ctx:   ctx,
		abort: cancel,
	}
}

// Emit queues e for writing and returns at once. If the queue is full, or the
// Pipeline is closed, e is dropped and counted in Dropped: a request must
// never wait for the audit trail.
func (p *Pipeline) Emit(e Event) {
	if e.Time.IsZero() {
		e.Time = p.opts.Now()
	}
	p.mu.RLock()
	if !p.closed {
		select {
		case p.queue <- e:
			p.mu.RUnlock()
			p.emitted.Add(1)
			return
		default:
		}
	}
	p.mu.RUnlock()
	p.dropped.Add(1)
}

// Emitted is the number of events accepted onto the queue.
func (p *Pipeline) Emitted() uint64 { return p.emitted.Load() }

// Dropped is the number of events Emit discarded because the queue was full or
// the Pipeline closed.
func (p *Pipeline) Dropped() uint64 { return p.dropped.Load() }

// Written is the number of events the sink stored.
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
// accepting events, writes everything still queued, and returns. Writes are
// not bound to ctx: its end means "shut down", not "abandon what is queued".
// Only the first call to Run (or Close) consumes the queue; a later Run
// returns at once.
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
				b.flush()
				b.reportDrops()
				return
			}
			b.add(e)
		case <-tick.C:
			b.flush()
			b.reportDrops()
		case <-stop:
			stop = nil
			p.shutdown() // the queue is drained by the receive case
		}
	}
}

// Close stops accepting events, waits until everything queued is written,
// and returns. If Run was never started, Close writes the queue itself. If ctx
// ends first, Close returns ctx.Err() and abandons the write in progress,
// retries included; it and the batches after it fail (counted in WriteErrors
// and Lost, and logged). Calling Close again is safe.
func (p *Pipeline) Close(ctx context.Context) error {
	p.shutdown()
	if p.running.CompareAndSwap(false, true) {
		go func() {
			defer close(p.done)
			b := p.newBatcher()
			for e := range p.queue {
				b.add(e)
			}
			b.flush()
			b.reportDrops()
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
	if !p.closed {
		p.closed = true
		close(p.queue)
	}
}

// batcher holds the batch being filled. Its buffers are reused, so steady
// state writes allocate only the Detail JSON.
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

// sensitive are Detail keys whose values are credentials. Callers must never
// put them in Detail; if one slips through, its value is redacted rather than
// written to the audit trail, which lives longer than any token.
func sensitive(key string) bool {
	switch key {
	case "password", "secret", "client_secret", "token", "access_token", "refresh_token",
		"id_token", "code", "code_verifier", "assertion", "client_assertion",
		"authorization", "cookie":
		return true
	}
	return false
}

// encodeDetail renders d as a JSON object, keys sorted (json.Marshal sorts
// map keys), so equal details are equal strings.
func encodeDetail(d map[string]string) string {
	if len(d) == 0 {
		return "{}"
	}
	for k := range d {
		if sensitive(k) {
			clean := make(map[string]string, len(d))
			for k, v := range d {
				if sensitive(k) {
					v = "[redacted]"
				}
				clean[k] = v
			}
			d = clean
			break
		}
	}
	out, err := json.Marshal(d)
	if err != nil { // a map[string]string always encodes
		return "{}"
	}
	return string(out)
}
