package batch

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authd/authd/internal/store"
)

// ErrClosed is returned by Write once Close has been called, and to a queued
// item whose flush never started because Close gave up waiting.
var ErrClosed = errors.New("batch: writer closed")

// Defaults for the zero fields of Options.
const (
	DefaultMaxBatch     = 100
	DefaultQueueSize    = 1024
	DefaultFlushers     = 1
	DefaultFlushTimeout = 5 * time.Second
	// DefaultMaxDelay is the recommended MaxDelay. It is not applied to a zero
	// MaxDelay, which means "no delay"; configuration uses it as its default.
	DefaultMaxDelay = time.Millisecond
)

// Options tune a Writer. Zero fields take the defaults above, except MaxDelay.
type Options struct {
	// MaxBatch caps the items in one flush.
	MaxBatch int
	// MaxDelay is how long the first item of a batch waits for company before
	// the batch may be flushed. Zero flushes as soon as a flusher is free, so
	// batches form only from what queues while the previous flush runs: no
	// added latency when idle, natural batching when busy.
	MaxDelay time.Duration
	// QueueSize bounds the items waiting to be collected; Write blocks (under
	// its own ctx) when it is full, which pushes back on callers instead of
	// growing without bound.
	QueueSize int
	// Flushers is how many flushes may run at once. One suits SQLite's single
	// writer; PostgreSQL commits several transactions in parallel and gains
	// from a few.
	Flushers int
	// FlushTimeout bounds one flush, including its row-by-row retries, so a
	// stuck backend fails callers instead of holding them forever.
	FlushTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.MaxBatch <= 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.MaxDelay < 0 {
		o.MaxDelay = 0
	}
	if o.QueueSize <= 0 {
		o.QueueSize = DefaultQueueSize
	}
	if o.Flushers <= 0 {
		o.Flushers = DefaultFlushers
	}
	if o.FlushTimeout <= 0 {
		o.FlushTimeout = DefaultFlushTimeout
	}
	return o
}

// Request states. A request moves from queued to exactly one of canceled (its
// caller gave up before any flush took it) or flushing; the CAS between them
// decides who owns the request afterwards.
const (
	stateQueued int32 = iota
	stateCanceled
	stateFlushing
)

// request carries one item from its caller to a flusher and the result back.
// Requests are pooled: done is buffered so a flusher never waits for the caller.
type request[T any] struct {
	item  T
	state atomic.Int32
	done  chan error
}

// batch is a reusable buffer for one flush.
type batch[T any] struct {
	reqs  []*request[T]
	items []T
}

// Writer commits items in batches. It is safe for concurrent use. New starts
// its goroutines (one collector plus Flushers); Close stops them.
type Writer[T any] struct {
	flush func(ctx context.Context, items []T) error
	opts  Options

	// mu guards closed against the close of queue: Write sends under the read
	// lock, so a send never races with close(queue).
	mu     sync.RWMutex
	closed bool
	queue  chan *request[T]

	batches chan *batch[T] // collector → flushers; unbuffered, so a send means a flusher is free
	free    chan *batch[T] // recycled batch buffers: one per flusher plus the collector's
	reqs    sync.Pool      // *request[T]

	ctx   context.Context // parent of every flush; canceled when Close gives up
	abort context.CancelFunc
	wg    sync.WaitGroup // flushers
	done  chan struct{}  // closed when every queued item has its result
}

// New returns a running Writer that commits items with flush. flush must write
// all the items it is given or none (one transaction) and return only once they
// are durable; it is called from at most opts.Flushers goroutines at a time.
// Errors wrapping store.ErrUnavailable, or any error once its ctx is done, are
// taken to mean the backend is unreachable: the whole batch fails without
// retries. Any other error makes the Writer retry the batch one item at a time.
func New[T any](flush func(ctx context.Context, items []T) error, opts Options) *Writer[T] {
	opts = opts.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	w := &Writer[T]{
		flush:   flush,
		opts:    opts,
		queue:   make(chan *request[T], opts.QueueSize),
		batches: make(chan *batch[T]),
		free:    make(chan *batch[T], opts.Flushers+1),
		ctx:     ctx,
		abort:   cancel,
		done:    make(chan struct{}),
	}
	w.reqs.New = func() any { return &request[T]{done: make(chan error, 1)} }
	for range opts.Flushers + 1 {
		w.free <- &batch[T]{
			reqs:  make([]*request[T], 0, opts.MaxBatch),
			items: make([]T, 0, opts.MaxBatch),
		}
	}
	w.wg.Add(opts.Flushers)
	for range opts.Flushers {
		go w.flusher()
	}
	go w.collect()
	return w
}

// Write queues item and blocks until it is durable or has failed. If ctx ends
// while the item is still queued, the item is not written and ctx.Err() is
// returned; once a flush has taken it, Write waits for that flush (at most
// FlushTimeout) and returns its real result, whatever ctx says, because the
// row may be committed. After Close it returns ErrClosed. Write allocates
// nothing itself and starts no goroutine.
func (w *Writer[T]) Write(ctx context.Context, item T) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := w.reqs.Get().(*request[T])
	r.item = item
	r.state.Store(stateQueued)
	if err := w.enqueue(ctx, r); err != nil {
		w.release(r)
		return err
	}
	select {
	case err := <-r.done:
		w.reqs.Put(r)
		return err
	case <-ctx.Done():
		if r.state.CompareAndSwap(stateQueued, stateCanceled) {
			// The collector or a flusher will find it canceled and recycle it.
			return ctx.Err()
		}
		err := <-r.done
		w.reqs.Put(r)
		return err
	}
}

// enqueue may block on a full queue while holding the read lock. That delays
// Close only until the collector makes room, which it does at the pace of
// flushes, each bounded by FlushTimeout.
func (w *Writer[T]) enqueue(ctx context.Context, r *request[T]) error {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return ErrClosed
	}
	select {
	case w.queue <- r:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// release returns a request that will get no result to the pool.
func (w *Writer[T]) release(r *request[T]) {
	var zero T
	r.item = zero
	w.reqs.Put(r)
}

// Close stops accepting items (Write returns ErrClosed), flushes everything
// already queued and waits for every flush to finish, so every accepted item
// has its result. If ctx ends first, Close cancels the flushes in progress,
// fails items whose flush has not started with ErrClosed, and returns
// ctx.Err() without waiting further. Calling Close again is safe.
func (w *Writer[T]) Close(ctx context.Context) error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.queue)
	}
	w.mu.Unlock()
	select {
	case <-w.done:
		w.abort() // releases the context's resources
		return nil
	case <-ctx.Done():
		w.abort()
		return ctx.Err()
	}
}

// collect gathers queued requests into batches and hands each to a free
// flusher. While it waits for MaxDelay or for a flusher, it keeps taking
// requests, so a busy Writer sends bigger batches rather than queueing.
func (w *Writer[T]) collect() {
	defer func() {
		close(w.batches)
		w.wg.Wait()
		close(w.done)
	}()
	var timer *time.Timer
	if w.opts.MaxDelay > 0 {
		timer = time.NewTimer(time.Hour)
		timer.Stop()
	}
	for {
		r, ok := <-w.queue
		if !ok {
			return
		}
		b := <-w.free
		w.add(b, r)
		var (
			ready  = timer == nil
			delay  <-chan time.Time
			closed bool
		)
		if !ready {
			timer.Reset(w.opts.MaxDelay)
			delay = timer.C
		}
	fill:
		for len(b.reqs) < w.opts.MaxBatch {
			var out chan<- *batch[T] // nil, so never chosen, until the batch is ready
			if ready && len(b.reqs) > 0 {
				out = w.batches
			}
			select {
			case r, ok := <-w.queue:
				if !ok {
					closed = true
					break fill
				}
				w.add(b, r)
			case <-delay:
				ready, delay = true, nil
			case out <- b:
				b = nil
				break fill
			}
		}
		if timer != nil {
			timer.Stop()
		}
		if b != nil {
			// Full, or closing: no reason left to wait for the delay.
			if len(b.reqs) > 0 {
				w.batches <- b
			} else {
				w.free <- b
			}
		}
		if closed {
			return
		}
	}
}

// add appends r to b unless its caller has already given up.
func (w *Writer[T]) add(b *batch[T], r *request[T]) {
	if r.state.Load() == stateCanceled {
		w.release(r)
		return
	}
	b.reqs = append(b.reqs, r)
}

func (w *Writer[T]) flusher() {
	defer w.wg.Done()
	for b := range w.batches {
		w.flushBatch(b)
		clear(b.items)
		clear(b.reqs)
		b.items, b.reqs = b.items[:0], b.reqs[:0]
		w.free <- b
	}
}

// flushBatch commits b and answers every caller in it.
func (w *Writer[T]) flushBatch(b *batch[T]) {
	// Claim each request; from here on its caller waits for our answer.
	// Requests canceled since they were collected are dropped unwritten.
	var zero T
	reqs := b.reqs[:0]
	for _, r := range b.reqs {
		if !r.state.CompareAndSwap(stateQueued, stateFlushing) {
			w.release(r)
			continue
		}
		b.items = append(b.items, r.item)
		r.item = zero
		reqs = append(reqs, r)
	}
	clear(b.reqs[len(reqs):])
	b.reqs = reqs
	if len(reqs) == 0 {
		return
	}
	if w.ctx.Err() != nil {
		// Close gave up waiting: nothing was written.
		answer(reqs, ErrClosed)
		return
	}

	ctx, cancel := context.WithTimeout(w.ctx, w.opts.FlushTimeout)
	defer cancel()
	err := w.flush(ctx, b.items)
	if err == nil || len(reqs) == 1 || outage(ctx, err) {
		answer(reqs, err)
		return
	}
	// The transaction rolled back, so nothing is written: retry each item on
	// its own so only the bad ones fail. Stop at the first outage.
	for i, r := range reqs {
		err := w.flush(ctx, b.items[i:i+1:i+1])
		if outage(ctx, err) {
			answer(reqs[i:], err)
			return
		}
		r.done <- err
	}
}

func answer[T any](reqs []*request[T], err error) {
	for _, r := range reqs {
		r.done <- err
	}
}

// outage reports whether err means the backend itself failed, so retrying
// rows one by one would only multiply the failures.
func outage(ctx context.Context, err error) bool {
	return err != nil && (errors.Is(err, store.ErrUnavailable) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		ctx.Err() != nil)
}
