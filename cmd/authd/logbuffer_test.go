package main

import (
	"bytes"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// writes records each Write it gets.
type writes struct {
	mu  sync.Mutex
	got []string
}

func (w *writes) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.got = append(w.got, string(p))
	return len(p), nil
}

func (w *writes) all() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.got...)
}

// TestLogBuffer: lines wait at most flushAfter and go out in one write, in
// order; a full buffer goes out at once; Flush empties it.
func TestLogBuffer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &writes{}
		b := newLogBuffer(w, 100*time.Millisecond, 1<<10)
		for i := range 5 {
			_, _ = b.Write([]byte("line " + string(rune('a'+i)) + "\n"))
		}
		if got := w.all(); len(got) != 0 {
			t.Fatalf("written before the interval: %q", got)
		}
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		if got := w.all(); len(got) != 1 || got[0] != "line a\nline b\nline c\nline d\nline e\n" {
			t.Fatalf("after the interval: %q", got)
		}
		// A full buffer does not wait.
		_, _ = b.Write(bytes.Repeat([]byte("x"), 2<<10))
		if got := w.all(); len(got) != 2 {
			t.Fatalf("a full buffer waited: %d writes", len(got))
		}
		_, _ = b.Write([]byte("last\n"))
		b.Flush()
		if got := w.all(); len(got) != 3 || got[2] != "last\n" {
			t.Fatalf("Flush: %q", got)
		}
		time.Sleep(time.Second) // the stopped timer writes nothing more
		synctest.Wait()
		if got := w.all(); len(got) != 3 {
			t.Fatalf("%d writes after Flush", len(got))
		}
	})
}

// TestAccessLogReachesStderr: a served request's access line is in the
// log by the time serve stops (the buffer is flushed at shutdown).
func TestAccessLogReachesStderr(t *testing.T) {
	s := startServer(t, nil)
	resp, err := http.Get(s.public + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	s.stop(t)
	if !strings.Contains(s.logs.String(), `"route":"GET /healthz"`) {
		t.Fatalf("no access line for /healthz:\n%s", s.logs.String())
	}
}
