package defense

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/netip"
	"time"

	"github.com/authd/authd/internal/account"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/ratelimit"
	"github.com/authd/authd/internal/secevent"
)

// Limiter is what the defences need from a rate limiter.
type Limiter interface {
	Allow(ctx context.Context, key string, limit ratelimit.Limit, cost int) (ratelimit.Decision, error)
	Reset(ctx context.Context, key string) error
}

// LoginPolicy bounds password attempts.
type LoginPolicy struct {
	// AttemptsPerIP bounds every attempt from one address, right or wrong: a
	// stuffing run from one address is slowed to this before any hashing.
	AttemptsPerIP ratelimit.Limit
	// FailuresPerIP bounds failed attempts from one address across accounts.
	FailuresPerIP ratelimit.Limit
	// FailuresPerAccount bounds failed attempts on one account from anywhere
	// (NIST SP 800-63B §5.2.2 allows at most 100 consecutive failures). A
	// success clears it. It applies to unknown usernames alike, so a lockout
	// does not reveal whether an account exists.
	FailuresPerAccount ratelimit.Limit
}

// DefaultLoginPolicy: generous for people, ruinous for guessing. An account
// takes 10 failures at once, then one every 5 minutes (≤ 300 a day, far below
// what a dictionary needs); an address 30 attempts a minute and 100 failures
// an hour.
func DefaultLoginPolicy() LoginPolicy {
	return LoginPolicy{
		AttemptsPerIP:      ratelimit.PerMinute(30, 30),
		FailuresPerIP:      ratelimit.PerHour(100, 50),
		FailuresPerAccount: ratelimit.Limit{Rate: 1.0 / 300, Burst: 10},
	}
}

// LoginGuard is the account.Guard that enforces a LoginPolicy.
type LoginGuard struct {
	lim    Limiter
	p      LoginPolicy
	events secevent.Emitter
	log    *slog.Logger
	// acctKey keys the HMAC that names accounts in limiter keys: what was
	// typed as a username is sometimes a password, and limiter keys are
	// visible to whoever can read Redis.
	acctKey []byte
}

var _ account.Guard = (*LoginGuard)(nil)

// NewLoginGuard returns a guard over lim. accountKey (32 bytes; every replica
// needs the same) keys the HMAC under which usernames appear in limiter keys;
// events and log may be nil.
func NewLoginGuard(lim Limiter, p LoginPolicy, accountKey []byte, events secevent.Emitter, log *slog.Logger) *LoginGuard {
	if events == nil {
		events = secevent.Discard{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &LoginGuard{lim: lim, p: p, events: events, log: log, acctKey: accountKey}
}

// account names an account in limiter keys without revealing what was typed.
func (g *LoginGuard) account(username string) string {
	m := hmac.New(sha256.New, g.acctKey)
	m.Write([]byte(username))
	return "login:fail-acct:" + hex.EncodeToString(m.Sum(nil)[:16])
}

// Allow refuses an attempt whose address or account is over budget. It runs
// before the user is looked up and before any hashing.
func (g *LoginGuard) Allow(ctx context.Context, a account.Attempt) error {
	if a.IP != "" {
		if err := g.check(ctx, ipKey("login:ip:", a.IP), g.p.AttemptsPerIP, 1, a, "attempts_per_ip"); err != nil {
			return err
		}
		if err := g.check(ctx, ipKey("login:fail-ip:", a.IP), g.p.FailuresPerIP, 0, a, "failures_per_ip"); err != nil {
			return err
		}
	}
	if a.Username != "" {
		if err := g.check(ctx, g.account(a.Username), g.p.FailuresPerAccount, 0, a, "failures_per_account"); err != nil {
			return err
		}
	}
	return nil
}

// Fail charges a failed attempt to its address and account.
func (g *LoginGuard) Fail(ctx context.Context, a account.Attempt) {
	if a.IP != "" {
		g.charge(ctx, ipKey("login:fail-ip:", a.IP), g.p.FailuresPerIP)
	}
	if a.Username != "" {
		g.charge(ctx, g.account(a.Username), g.p.FailuresPerAccount)
	}
}

// Succeed clears the account's failures: the owner is back.
func (g *LoginGuard) Succeed(ctx context.Context, a account.Attempt) {
	if a.Username == "" {
		return
	}
	if err := g.lim.Reset(ctx, g.account(a.Username)); err != nil {
		g.log.Warn("reset login failures", "error", err.Error())
	}
}

// check charges cost to key and refuses with 429 when over limit. A limiter
// that cannot decide lets the attempt through: the hashing gate still bounds
// the cost, and refusing every login because a counter is unreachable would
// be an outage of its own.
func (g *LoginGuard) check(ctx context.Context, key string, l ratelimit.Limit, cost int, a account.Attempt, which string) error {
	if l.Rate == 0 {
		return nil // turned off
	}
	d, err := g.lim.Allow(ctx, key, l, cost)
	if err != nil {
		g.log.Warn("login limiter undecided; allowing", "limit", which, "error", err.Error())
		return nil
	}
	if d.Allowed {
		return nil
	}
	g.events.Emit(secevent.Event{Type: secevent.RateLimitExceeded, IP: a.IP,
		Detail: map[string]string{"limit": which}})
	return oauth.TooManyRequests(retrySeconds(d.RetryAfter))
}

func (g *LoginGuard) charge(ctx context.Context, key string, l ratelimit.Limit) {
	if l.Rate == 0 {
		return
	}
	// A denied charge means the budget is already spent; the next Allow refuses.
	if _, err := g.lim.Allow(ctx, key, l, 1); err != nil {
		g.log.Warn("record login failure", "error", err.Error())
	}
}

// retrySeconds rounds a wait up to whole seconds for Retry-After.
func retrySeconds(d time.Duration) int {
	if d <= 0 {
		return 1
	}
	return int((d + time.Second - 1) / time.Second)
}

// ipKey builds the limiter key of an address. IPv6 addresses count by their
// /64: one host commonly holds a whole /64 and could otherwise take a fresh
// address, and a fresh budget, for every request.
func ipKey(kind, ip string) string {
	if a, err := netip.ParseAddr(ip); err == nil {
		a = a.Unmap()
		if a.Is6() {
			ip = netip.PrefixFrom(a, 64).Masked().String()
		}
	}
	return key(kind, ip)
}

// key builds a limiter key. Values that would make it too long for the
// limiter are hashed.
func key(kind, v string) string {
	if len(kind)+len(v) <= 128 {
		return kind + v
	}
	sum := sha256.Sum256([]byte(v))
	return kind + "sha256:" + hex.EncodeToString(sum[:])
}
