package defense

import (
	"context"
	"log/slog"

	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/ratelimit"
	"github.com/authd/authd/internal/secevent"
)

// RequestPolicy bounds traffic by who sends it. A zero Limit turns that limit off.
//
// Limits follow identity, not address: a request whose client proved itself
// is the client's, charged to PerClient only, so a gateway that introspects
// everything it forwards from one address is never refused for its address.
// PerIP guards what anyone can reach without credentials: requests that did
// not authenticate (or failed to), the login pages, registration.
type RequestPolicy struct {
	// PerIP bounds the unauthenticated requests to the public API from one
	// address: flood protection that answers 429 for the cost of a counter.
	// CheckIP refuses an address already over it; ChargeIP charges a
	// request that did not authenticate once it is answered.
	PerIP ratelimit.Limit
	// PerClient bounds the requests of one authenticated client at every
	// endpoint it authenticates at (token, introspection, revocation, PAR).
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

func (r *Requests) allow(ctx context.Context, key string, l ratelimit.Limit, cost int, why refusal) error {
	if l.Rate == 0 {
		return nil
	}
	d, err := r.lim.Allow(ctx, key, l, cost)
	if err != nil {
		// Undecided: let it through. The fallback limiter already covers a
		// Redis outage; this is the last resort, logged.
		r.log.Warn("rate limiter undecided; allowing", "key_kind", why.limit, "error", err.Error())
		return nil
	}
	if d.Allowed {
		return nil
	}
	r.events.Emit(secevent.Event{Type: why.typ, ClientID: why.clientID, IP: why.ip, Detail: map[string]string{"limit": why.limit}})
	return oauth.TooManyRequests(retrySeconds(d.RetryAfter))
}

// refusal names the event a refused request is recorded as. It is made into
// an Event only on a refusal, so an allowed request costs no map.
type refusal struct {
	typ, clientID, ip, limit string
}

// CheckIP refuses an address that is already over its budget of
// unauthenticated requests, and charges nothing: it runs before every
// request, and only a request that turns out not to authenticate is charged
// (ChargeIP), so an address whose requests all authenticate never runs out.
func (r *Requests) CheckIP(ctx context.Context, ip string) error {
	if ip == "" || r.p.PerIP.Rate == 0 {
		return nil
	}
	return r.allow(ctx, ipKey("req:ip:", ip), r.p.PerIP, 0, refusal{typ: secevent.RateLimitExceeded, ip: ip, limit: "per_ip"})
}

// ChargeIP charges one unauthenticated request to an address, after it was
// answered. A charge the budget cannot take charges nothing (GCRA), and the
// address's next request is refused by CheckIP.
func (r *Requests) ChargeIP(ctx context.Context, ip string) {
	if ip == "" || r.p.PerIP.Rate == 0 {
		return
	}
	if _, err := r.lim.Allow(ctx, ipKey("req:ip:", ip), r.p.PerIP, 1); err != nil {
		r.log.Warn("rate limiter undecided; request not charged", "key_kind", "per_ip", "error", err.Error())
	}
}

// AllowRegistration charges one open registration to an address.
func (r *Requests) AllowRegistration(ctx context.Context, ip string) error {
	if r.p.RegistrationPerIP.Rate == 0 {
		return nil
	}
	return r.allow(ctx, ipKey("reg:ip:", ip), r.p.RegistrationPerIP, 1, refusal{typ: secevent.RateLimitExceeded, ip: ip, limit: "registration_per_ip"})
}

// AllowClient charges one request to an authenticated client.
func (r *Requests) AllowClient(ctx context.Context, c *oauth.Client, ip string) error {
	if r.p.PerClient.Rate == 0 {
		return nil // off, the default: not even a key to build
	}
	return r.allow(ctx, key("req:client:", c.ID), r.p.PerClient, 1, refusal{typ: secevent.RateLimitExceeded, clientID: c.ID, ip: ip, limit: "per_client"})
}

// AllowIntrospection refuses a caller that has used up its budget of
// inactive answers; it charges nothing.
func (r *Requests) AllowIntrospection(ctx context.Context, callerID, ip string) error {
	if r.p.InactivePerCaller.Rate == 0 {
		return nil
	}
	return r.allow(ctx, key("intro:inactive:", callerID), r.p.InactivePerCaller, 0, refusal{typ: secevent.TokenEnumeration, clientID: callerID, ip: ip, limit: "inactive_per_caller"})
}

// Inactive charges n inactive introspection answers to a caller.
func (r *Requests) Inactive(ctx context.Context, callerID string, n int) {
	if n == 0 || r.p.InactivePerCaller.Rate == 0 {
		return
	}
	// A denied charge charges nothing, so charge at most what is left: a
	// batch of junk then empties the budget instead of slipping through.
	k := key("intro:inactive:", callerID)
	d, err := r.lim.Allow(ctx, k, r.p.InactivePerCaller, min(n, r.p.InactivePerCaller.Burst))
	if err == nil && !d.Allowed && d.Remaining > 0 {
		// More than was left: take what was (a denied decision reports it).
		_, err = r.lim.Allow(ctx, k, r.p.InactivePerCaller, d.Remaining)
	}
	if err != nil {
		r.log.Warn("record inactive introspections", "error", err.Error())
	}
}
