package main

import (
	"io"
	"sync"
	"time"
)

// logBuffer collects log lines and writes them out together, at most
// flushAfter after the first one, or at once when maxBytes are waiting: the
// access log is a line per request, and a write to the log's file per line
// cost cached introspection about a seventh of its throughput (bench/run.sh,
// pinned). Only the access log goes through it: every other line, warnings
// and errors included, is written as it happens. A crash loses at most
// flushAfter of access lines.
type logBuffer struct {
	w          io.Writer
	flushAfter time.Duration
	maxBytes   int

	mu      sync.Mutex
	buf     []byte
	pending *time.Timer
}

func newLogBuffer(w io.Writer, flushAfter time.Duration, maxBytes int) *logBuffer {
	return &logBuffer{w: w, flushAfter: flushAfter, maxBytes: maxBytes}
}

// Write keeps p (one whole line: slog's handlers write a record in one
// call) for the next flush.
func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) >= b.maxBytes {
		b.flushLocked()
	} else if b.pending == nil {
		b.pending = time.AfterFunc(b.flushAfter, b.Flush)
	}
	return len(p), nil
}

// Flush writes out what is waiting.
func (b *logBuffer) Flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
}

func (b *logBuffer) flushLocked() {
	if b.pending != nil {
		b.pending.Stop()
		b.pending = nil
	}
	if len(b.buf) == 0 {
		return
	}
	_, _ = b.w.Write(b.buf) // a log that cannot be written has nowhere to say so
	b.buf = b.buf[:0]
}
