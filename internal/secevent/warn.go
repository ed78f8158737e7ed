package secevent

import (
	"context"
	"log/slog"
	"sync/atomic"
)

// notable are the types an operator should hear about as they happen, not
// when reading the audit trail: a source or an account hitting a limit, a
// stolen refresh token or code coming back, someone guessing at the admin
// API. A refusal type among them is logged for the first occurrence of its
// key in a window only; the others, which are rare by construction, each time.
func notable(typ string) bool {
	switch typ {
	case RateLimitExceeded, TokenEnumeration, LoginLockedOut, AdminAuthFailed, RefreshReused, CodeReused:
		return true
	}
	return false
}

// warner writes the WARN lines, at most max a window: a flood of notable
// events (a botnet, each source hitting its limit once) must not become a
// flood of log lines. What it holds back it counts, and the line that closes
// the window says how many.
type warner struct {
	log *slog.Logger
	max int64 // < 1: never warn
	n   atomic.Int64
}

func (w *warner) event(e Event) {
	if !w.take() {
		return
	}
	w.log.LogAttrs(context.Background(), slog.LevelWarn, "secevent: security event", eventAttrs(e)...)
}

// spill says that refusals of typ are now counted in one overflow row.
func (w *warner) spill(typ string, maxKeys int64) {
	if !w.take() {
		return
	}
	w.log.LogAttrs(context.Background(), slog.LevelWarn,
		"secevent: too many distinct sources in this window; the rest are counted in one row",
		slog.String("type", typ), slog.String("ip", overflowIP), slog.Int64("max_keys", maxKeys))
}

func (w *warner) take() bool {
	return w.max > 0 && w.n.Add(1) <= w.max
}

// endWindow reports what the window held back and starts the next.
func (w *warner) endWindow(win window) {
	n := w.n.Swap(0)
	if w.max > 0 && n > w.max {
		w.log.LogAttrs(context.Background(), slog.LevelWarn, "secevent: security warnings suppressed",
			slog.Int64("suppressed", n-w.max), slog.String("window_start", win.start), slog.String("window_end", win.end))
	}
}

// eventAttrs are what a WARN line says about e. The fields are the ones the
// audit row has, and pass the same redaction: a log is read by more people
// than the audit trail.
func eventAttrs(e Event) []slog.Attr {
	d := redact(e.Detail)
	if d == nil {
		d = map[string]string{} // an object, as in the audit row, not null
	}
	return []slog.Attr{
		slog.String("type", e.Type), slog.String("ip", e.IP), slog.String("client_id", e.ClientID),
		slog.String("subject", e.Subject), slog.Any("detail", d),
	}
}
