package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestProgressOnlyOnATerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	for name, out := range map[string]any{"buffer": &bytes.Buffer{}, "file": f, "pipe": w} {
		if p := newProgress(out.(interface{ Write([]byte) (int, error) })); p != nil {
			t.Errorf("%s: a progress line; want none off a terminal", name)
		}
	}
	// A nil progress does nothing, wherever it is called.
	var p *progress
	p.setScenario("x")
	p.watch("main", newTimeline(time.Time{}))()
	p.run(context.Background(), nil)
}

func TestProgressLine(t *testing.T) {
	var out bytes.Buffer
	p := &progress{out: &out, width: 200}
	p.setScenario("token-jwt @ authd")
	t0 := time.Now()
	tl := newTimeline(t0)
	stop := p.watch("main", tl)
	for i := range 200 {
		lat := time.Millisecond
		if i >= 196 {
			lat = 40 * time.Millisecond
		}
		tl.add(t0, lat, i%100 != 0) // 2 of 200 unexpected
	}
	w := p.streams[0]
	w.prevAt = t0
	w.began = t0
	p.draw(t0.Add(2 * time.Second))
	line := out.String()
	for _, want := range []string{"\rtoken-jwt @ authd main 2s 100/s 1.00% err p99 ", "\x1b[K"} {
		if !strings.Contains(line, want) {
			t.Errorf("line %q lacks %q", line, want)
		}
	}
	if !strings.Contains(line, "p99 4") { // the 40ms bin
		t.Errorf("line %q: want p99 near 40ms", line)
	}
	// A log line clears the progress line first.
	out.Reset()
	if _, err := p.Write([]byte("12:00:00 authd: next\n")); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "\r\x1b[K12:00:00 authd: next\n" {
		t.Errorf("log through progress = %q", got)
	}
	// Nothing shown: nothing to clear. Stopping the last stream clears the line.
	out.Reset()
	_, _ = p.Write([]byte("x\n"))
	if out.String() != "x\n" {
		t.Errorf("log with no line shown = %q", out.String())
	}
	p.draw(t0.Add(3 * time.Second))
	out.Reset()
	stop()
	if out.String() != "\r\x1b[K" {
		t.Errorf("stop wrote %q; want the line cleared", out.String())
	}
	out.Reset()
	p.draw(t0.Add(4 * time.Second))
	if out.Len() != 0 {
		t.Errorf("drew %q with no stream watched", out.String())
	}
}

func TestProgressLineFitsTheTerminal(t *testing.T) {
	var out bytes.Buffer
	p := &progress{out: &out, width: 40}
	p.setScenario(strings.Repeat("long-scenario-name ", 5))
	defer p.watch("main", newTimeline(time.Now()))()
	p.draw(time.Now())
	line := strings.TrimSuffix(strings.TrimPrefix(out.String(), "\r"), "\x1b[K")
	if n := len([]rune(line)); n > 39 {
		t.Fatalf("line of %d runes on a 40-column terminal: %q", n, line)
	}
}

// TestProgressConcurrentDraws proves the line can be drawn, logged through
// and watched from several goroutines while streams add to their timelines.
func TestProgressConcurrentDraws(t *testing.T) {
	var out syncBuffer
	p := &progress{out: &out, width: 120}
	tick := make(chan time.Time)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.run(ctx, tick); close(done) }()
	var wg, watching sync.WaitGroup
	release := make(chan struct{})
	for g := range 3 {
		wg.Add(1)
		watching.Add(1)
		go func() {
			defer wg.Done()
			tl := newTimeline(time.Now())
			stop := p.watch("s"+itoa(g), tl)
			watching.Done()
			for i := range 2000 {
				tl.add(time.Now(), time.Duration(i), true)
				if i%500 == 0 {
					_, _ = p.Write([]byte("log\n"))
				}
			}
			<-release // stay watched until the ticks are drawn
			stop()
		}()
	}
	watching.Wait()
	for range 50 {
		tick <- time.Now()
	}
	close(release)
	wg.Wait()
	cancel()
	<-done
	if !strings.Contains(out.String(), "% err p99") {
		t.Fatalf("no line drawn: %q", out.String())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
