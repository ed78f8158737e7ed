package login

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/authd/authd/internal/store"
)

// ScopeDescriber has operators' descriptions of scopes;
// store.ScopeDescriptions implements it.
type ScopeDescriber interface {
	// ScopeDescriptions returns every description by scope.
	ScopeDescriptions(ctx context.Context) (map[string]string, error)
}

var _ ScopeDescriber = (store.ScopeDescriptions)(nil)

// scopeCacheTTL is how long the consent page uses descriptions it read: a
// change through the admin API shows within this time on every replica, and
// a busy consent page asks the store at most once per interval.
const scopeCacheTTL = 30 * time.Second

// scopeRetryAfter is how long a failed read of the descriptions stands.
const scopeRetryAfter = 5 * time.Second

// builtinScopes describe the scopes OpenID Connect defines (Core §5.4,
// §11) in words; an operator's description of the same scope replaces them
// (to translate them, say).
var builtinScopes = map[string]string{
	"openid":         "Confirm who you are",
	"profile":        "See your username",
	"email":          "See your email address",
	"address":        "See your postal address",
	"phone":          "See your phone number",
	"offline_access": "Keep access while you are not using it",
}

// scopeTexts caches the operator's descriptions. One caller at a time reads
// the store; while it does, the others use the descriptions read before (or,
// when there are none yet, wait for that read), so a slow store delays no
// more than one consent page per interval.
type scopeTexts struct {
	src ScopeDescriber // nil: built-in descriptions only
	ttl time.Duration
	now func() time.Time

	mu     sync.Mutex
	m      map[string]string
	loaded bool
	until  time.Time // m is fresh until then
	// retryAt is when to ask again after a failed read, so a store that is
	// down is not asked by every consent page.
	retryAt time.Time
	loading chan struct{} // closed when the read in flight ends; nil when none is
}

func newScopeTexts(src ScopeDescriber, ttl time.Duration, now func() time.Time) *scopeTexts {
	return &scopeTexts{src: src, ttl: ttl, now: now}
}

// get returns the operator's descriptions, from the cache when it is fresh.
// A failed read is logged and the previous descriptions (or none) are used:
// the consent page still says what each scope is called.
func (c *scopeTexts) get(ctx context.Context, log *slog.Logger) map[string]string {
	if c.src == nil {
		return nil
	}
	c.mu.Lock()
	for {
		if now := c.now(); c.loaded && now.Before(c.until) || now.Before(c.retryAt) {
			m := c.m
			c.mu.Unlock()
			return m
		}
		if c.loading == nil {
			break
		}
		if c.loaded {
			m := c.m // stale, while another caller refreshes it
			c.mu.Unlock()
			return m
		}
		wait := c.loading
		c.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil
		}
		c.mu.Lock()
	}
	done := make(chan struct{})
	c.loading = done
	c.mu.Unlock()

	m, err := c.src.ScopeDescriptions(ctx)

	c.mu.Lock()
	defer c.mu.Unlock()
	c.loading = nil
	close(done)
	if err != nil {
		if ctx.Err() == nil {
			// The store's failure, not this caller's hang-up.
			log.LogAttrs(ctx, slog.LevelWarn, "login: read scope descriptions", slog.String("error", err.Error()))
			c.retryAt = c.now().Add(scopeRetryAfter)
		}
		return c.m
	}
	c.m, c.loaded, c.until = m, true, c.now().Add(c.ttl)
	return m
}

// describeScopes says what each scope lets the client do, in words: the
// operator's description, the built-in one, or the scope's name.
func (h *Handler) describeScopes(ctx context.Context, scopes []string) []string {
	custom := h.scopes.get(ctx, h.log)
	out := make([]string, len(scopes))
	for i, s := range scopes {
		out[i] = scopeDescription(custom, s)
	}
	return out
}

func scopeDescription(custom map[string]string, s string) string {
	if d, ok := custom[s]; ok && d != "" {
		return d
	}
	if d, ok := builtinScopes[s]; ok {
		return d
	}
	return "Use the permission “" + s + "”"
}
