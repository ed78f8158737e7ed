package defense

import (
	"context"
	"log/slog"

	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/ratelimit"
	"github.com/authd/authd/internal/secevent"
)

// RequestPolicy bounds traffic by who sends it. A zero Limit turns that limit off.
type RequestPolicy struct {
	// PerIP bounds every request to the public API from one address: flood
	// protection that answers 429 for the cost of a counter.
	PerIP ratelimit.Limit
	// PerClient bounds token requests of one authenticated client.
	PerClient ratelimit.Limit
	// InactivePerCaller bounds how many introspection answers of "inactive"
	// one resource server may get: a few expired tokens are normal, thousands
	// of unknown ones a minute are someone guessing (token enumeration).
	InactivePerCaller ratelimit.Limit
	// RegistrationPerIP bounds open dynamic client registrations from one
	// address (AUTHD_REGISTRATION=open): each one is a stored client.
	RegistrationPerIP ratelimit.Limit
}

// Requests enforces a RequestPolicy.
type Requests struct {
	lim    Limiter
	p      RequestPolicy
	events secevent.Emitter
	log    *slog.Logger
}

// NewRequests returns the request limits over lim; events and log may be nil.
func NewRequests(lim Limiter, p RequestPolicy, events secevent.Emitter, log *slog.Logger) *Requests {
	if events == nil {
		events = secevent.Discard{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Requests{lim: lim, p: p, events: events, log: log}
}

func (r *Requests) allow(ctx context.Context, key string, l ratelimit.Limit, cost int, ev secevent.Event) error {
	if l.Rate == 0 {
		return nil
	}
	d, err := r.lim.Allow(ctx, key, l, cost)
	if err != nil {
		// Undecided: let it through. The fallback limiter already covers a
		// Redis outage; this is the last resort, logged.
		r.log.Warn("rate limiter undecided; allowing", "key_kind", ev.Detail["limit"], "error", err.Error())
		return nil
	}
	if d.Allowed {
		return nil
	}
	r.events.Emit(ev)
	return oauth.TooManyRequests(retrySeconds(d.RetryAfter))
}

// AllowIP charges one request to an address.
func (r *Requests) AllowIP(ctx context.Context, ip string) error {
	if ip == "" {
		return nil
	}
	return r.allow(ctx, ipKey("req:ip:", ip), r.p.PerIP, 1, secevent.Event{Type: secevent.RateLimitExceeded, IP: ip,
		Detail: map[string]string{"limit": "per_ip"}})
}

// AllowRegistration charges one open registration to an address.
func (r *Requests) AllowRegistration(ctx context.Context, ip string) error {
	return r.allow(ctx, ipKey("reg:ip:", ip), r.p.RegistrationPerIP, 1, secevent.Event{Type: secevent.RateLimitExceeded, IP: ip,
		Detail: map[string]string{"limit": "registration_per_ip"}})
}

// AllowClient charges one token request to an authenticated client.
func (r *Requests) AllowClient(ctx context.Context, c *oauth.Client, ip string) error {
	return r.allow(ctx, key("req:client:", c.ID), r.p.PerClient, 1, secevent.Event{Type: secevent.RateLimitExceeded,
		ClientID: c.ID, IP: ip, Detail: map[string]string{"limit": "per_client"}})
}

// AllowIntrospection refuses a caller that has used up its budget of
// inactive answers; it charges nothing.
func (r *Requests) AllowIntrospection(ctx context.Context, callerID, ip string) error {
	return r.allow(ctx, key("intro:inactive:", callerID), r.p.InactivePerCaller, 0, secevent.Event{Type: secevent.TokenEnumeration,
		ClientID: callerID, IP: ip, Detail: map[string]string{"limit": "inactive_per_caller"}})
}

// Inactive charges n inactive introspection answers to a caller.
func (r *Requests) Inactive(ctx context.Context, callerID string, n int) {
	if n == 0 || r.p.InactivePerCaller.Rate == 0 {
		return
	}
	// A denied charge charges nothing, so charge at most what is left: a
	// batch of junk then empties the budget instead of slipping through.
	k := key("intro:inactive:", callerID)
	d, err := r.lim.Allow(ctx, k, r.p.InactivePerCaller, 0)
	if err == nil && d.Remaining > 0 {
		_, err = r.lim.Allow(ctx, k, r.p.InactivePerCaller, min(n, d.Remaining))
	}
	if err != nil {
		r.log.Warn("record inactive introspections", "error", err.Error())
	}
}
