package defense

import (
	"context"
	"log/slog"

	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/ratelimit"
	"github.com/authd/authd/internal/secevent"
)

// DefaultUserCodeFailures bounds wrong user-code entries on the device
// verification page per address: 10 at once, then one every 6 minutes. With
// 20^8 codes and a few hundred live at a time, that leaves an address about
// one chance in 10^6 a day of hitting one (RFC 8628 §5.1).
func DefaultUserCodeFailures() ratelimit.Limit { return ratelimit.PerHour(10, 10) }

// UserCodes limits wrong user-code entries per address, through the shared
// limiter, so every replica counts the same failures.
type UserCodes struct {
	lim    Limiter
	limit  ratelimit.Limit
	events secevent.Emitter
	log    *slog.Logger
}

// NewUserCodes returns the guard; a zero limit turns it off. events and log
// may be nil.
func NewUserCodes(lim Limiter, limit ratelimit.Limit, events secevent.Emitter, log *slog.Logger) *UserCodes {
	if events == nil {
		events = secevent.Discard{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &UserCodes{lim: lim, limit: limit, events: events, log: log}
}

func userCodeKey(ip string) string { return ipKey("device:fail-ip:", ip) }

// Allow refuses an entry from an address whose failures are spent, with 429
// and Retry-After, before the code is looked up. A limiter that cannot
// decide lets it through, as the login guard does.
func (u *UserCodes) Allow(ctx context.Context, ip string) error {
	if u.limit.Rate == 0 || ip == "" {
		return nil
	}
	d, err := u.lim.Allow(ctx, userCodeKey(ip), u.limit, 0)
	if err != nil {
		u.log.Warn("user code limiter undecided; allowing", "error", err.Error())
		return nil
	}
	if d.Allowed {
		return nil
	}
	u.events.Emit(secevent.Event{Type: secevent.RateLimitExceeded, IP: ip, Detail: map[string]string{"limit": "user_code_failures_per_ip"}})
	return oauth.TooManyRequests(retrySeconds(d.RetryAfter))
}

// Fail charges a wrong entry to its address and records it as a refusal.
func (u *UserCodes) Fail(ctx context.Context, ip string) {
	u.events.Emit(secevent.Event{Type: secevent.DeviceUserCodeFailed, IP: ip})
	if u.limit.Rate == 0 || ip == "" {
		return
	}
	if _, err := u.lim.Allow(ctx, userCodeKey(ip), u.limit, 1); err != nil {
		u.log.Warn("record user code failure", "error", err.Error())
	}
}
