package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/term"
)

// progress is the live line a person sees on a terminal while streams run:
// each stream's rate over the last refresh, its share of unexpected answers
// and its p99 so far, redrawn in place. It is only ever drawn on stderr and
// only when stderr is a terminal, so machine output (stdout, --json, files,
// pipes) never holds it.
//
// Lines logged while it is shown go through Write, which clears it first so
// they do not run into it. A nil *progress does nothing.
type progress struct {
	out   io.Writer
	width int // terminal columns; the line is cut to fit, since a wrapped line cannot be redrawn in place

	mu       sync.Mutex
	scenario string
	streams  []*watched
	shown    bool
}

type watched struct {
	name   string
	tl     *timeline
	began  time.Time
	prevN  uint64
	prevAt time.Time
}

// isTerminal reports whether w is a character device (a terminal), checked
// through os.File.Stat so no terminal library decides it.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// newProgress returns a progress line on w when w is a terminal, else nil.
func newProgress(w io.Writer) *progress {
	if !isTerminal(w) {
		return nil
	}
	width := 80
	if f, ok := w.(*os.File); ok {
		if c, _, err := term.GetSize(int(f.Fd())); err == nil && c > 20 {
			width = c
		}
	}
	return &progress{out: w, width: width}
}

// run redraws the line on every tick until ctx ends, then clears it.
func (p *progress) run(ctx context.Context, tick <-chan time.Time) {
	if p == nil {
		return
	}
	for {
		select {
		case <-ctx.Done():
			p.clear()
			return
		case now := <-tick:
			p.draw(now)
		}
	}
}

// setScenario names what runs now ("token-jwt @ authd").
func (p *progress) setScenario(s string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.scenario = s
	p.mu.Unlock()
}

// watch shows tl's stream until the returned stop is called.
func (p *progress) watch(name string, tl *timeline) (stop func()) {
	if p == nil {
		return func() {}
	}
	now := time.Now()
	w := &watched{name: name, tl: tl, began: now, prevAt: now}
	p.mu.Lock()
	p.streams = append(p.streams, w)
	p.mu.Unlock()
	return func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		for i, s := range p.streams {
			if s == w {
				p.streams = append(p.streams[:i], p.streams[i+1:]...)
				break
			}
		}
		if len(p.streams) == 0 {
			p.clearLocked()
		}
	}
}

// draw writes the line for the moment now.
func (p *progress) draw(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.streams) == 0 {
		return
	}
	line := p.lineLocked(now)
	fmt.Fprint(p.out, "\r"+line+"\x1b[K")
	p.shown = true
}

// lineLocked renders the figures; p.mu is held.
func (p *progress) lineLocked(now time.Time) string {
	var b strings.Builder
	b.WriteString(p.scenario)
	for i, s := range p.streams {
		f := s.tl.snapshot()
		rate := 0.0
		if dt := now.Sub(s.prevAt).Seconds(); dt > 0 && f.requests >= s.prevN {
			rate = float64(f.requests-s.prevN) / dt
		}
		s.prevN, s.prevAt = f.requests, now
		errPct := 0.0
		if f.requests > 0 {
			errPct = 100 * float64(f.errs) / float64(f.requests)
		}
		if i > 0 {
			b.WriteString(" |")
		}
		// Short: the line must fit one terminal row to be redrawn in place.
		fmt.Fprintf(&b, " %s %s %.0f/s %.2f%% err p99 %s",
			s.name, now.Sub(s.began).Round(time.Second), rate, errPct, fmtMS(ms(f.p99)))
	}
	return cut(b.String(), p.width-1)
}

// cut shortens s to n runes.
func cut(s string, n int) string {
	if n <= 0 || utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}

func (p *progress) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
}

func (p *progress) clearLocked() {
	if p.shown {
		fmt.Fprint(p.out, "\r\x1b[K")
		p.shown = false
	}
}

// Write logs b, clearing the line first; the next tick draws it again.
func (p *progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
	return p.out.Write(b)
}
