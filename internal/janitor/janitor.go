package janitor

import (
	"context"
	"log/slog"
	"time"
)

// Purger deletes expired rows; store.Purger is one.
type Purger interface {
	// PurgeExpired deletes up to limit expired rows of each kind with expiry
	// before now and returns how many rows it deleted in all.
	PurgeExpired(ctx context.Context, now time.Time, limit int) (int, error)
}

// AuditPurger deletes audit events past their retention; store.Audit is one.
type AuditPurger interface {
	PurgeAudit(ctx context.Context, before time.Time, limit int) (int, error)
}

// Defaults for the zero fields of Options.
const (
	DefaultInterval  = time.Minute
	DefaultBatchSize = 1000
	DefaultPause     = 10 * time.Millisecond
)

// Options tune a Janitor. Zero fields take the defaults.
type Options struct {
	// Interval is the time between cleanup runs.
	Interval time.Duration
	// BatchSize is the limit passed to each PurgeExpired call.
	BatchSize int
	// Pause separates the batches of one run, leaving the writer to requests;
	// negative means none.
	Pause time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger receives run results and errors; default discards.
	Logger *slog.Logger
	// AuditRetention, when positive and the Purger is also an AuditPurger,
	// deletes audit events older than this, so the trail is bounded too.
	AuditRetention time.Duration
}

// Janitor purges expired rows periodically. Its methods are safe for
// concurrent use, though running two at once only makes them compete.
type Janitor struct {
	p    Purger
	opts Options
}

// New returns a Janitor that purges through p.
func New(p Purger, opts Options) *Janitor {
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.Pause < 0 {
		opts.Pause = 0
	} else if opts.Pause == 0 {
		opts.Pause = DefaultPause
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Janitor{p: p, opts: opts}
}

// RunOnce deletes everything that expired before now, BatchSize rows (of each
// kind) per call, pausing between calls. It stops when a call deletes fewer
// than BatchSize rows in all, since then no kind had more left. now is read
// once, so rows that expire during the run wait for the next one and the run
// always ends. It returns the rows deleted, and the first error or ctx.Err()
// (with the count deleted before it).
func (j *Janitor) RunOnce(ctx context.Context) (deleted int, err error) {
	now := j.opts.Now()
	deleted, err = j.batches(ctx, func(ctx context.Context) (int, error) {
		return j.p.PurgeExpired(ctx, now, j.opts.BatchSize)
	})
	ap, ok := j.p.(AuditPurger)
	if err != nil || !ok || j.opts.AuditRetention <= 0 {
		return deleted, err
	}
	before := now.Add(-j.opts.AuditRetention)
	n, err := j.batches(ctx, func(ctx context.Context) (int, error) {
		return ap.PurgeAudit(ctx, before, j.opts.BatchSize)
	})
	return deleted + n, err
}

// batches calls purge until a call deletes fewer than BatchSize rows.
func (j *Janitor) batches(ctx context.Context, purge func(context.Context) (int, error)) (deleted int, err error) {
	for {
		n, err := purge(ctx)
		deleted += n
		if err != nil {
			return deleted, err
		}
		if n < j.opts.BatchSize {
			return deleted, nil
		}
		if err := sleep(ctx, j.opts.Pause); err != nil {
			return deleted, err
		}
	}
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run calls RunOnce at once and then every Interval until ctx ends. Errors are
// logged and the next run tries again: a database that is down now may be
// back by then, and an expired row left a minute longer harms nobody.
func (j *Janitor) Run(ctx context.Context) {
	t := time.NewTicker(j.opts.Interval)
	defer t.Stop()
	for {
		start := time.Now()
		n, err := j.RunOnce(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			j.opts.Logger.LogAttrs(ctx, slog.LevelError, "janitor: purge expired rows failed",
				slog.Int("deleted", n), slog.String("error", err.Error()))
		case n > 0:
			j.opts.Logger.LogAttrs(ctx, slog.LevelInfo, "janitor: purged expired rows",
				slog.Int("deleted", n), slog.Duration("took", time.Since(start)))
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}
