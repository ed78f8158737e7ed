package defense

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
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

// LoginPolicy bounds password attempts. A zero Limit (or TrustAddress) turns
// that bound off.
//
// Failures on an account are counted per source: per (account, address), or
// per (account, device) for a browser holding a device cookie from an earlier
// successful login. Someone guessing from their own addresses thus locks out
// those addresses, not the owner (OWASP ASVS 5.0 V6: no malicious account
// lockout). A much looser bound on the account as a whole stops guessing
// spread over many addresses; the owner's trusted sources (a device cookie,
// an address that recently logged in to the account) are exempt from it.
// Every bound applies to unknown usernames alike, so no answer reveals
// whether an account exists.
type LoginPolicy struct {
	// AttemptsPerIP bounds every attempt from one address, right or wrong: a
	// stuffing run from one address is slowed to this before any hashing.
	AttemptsPerIP ratelimit.Limit
	// FailuresPerIP bounds failed attempts from one address across accounts.
	FailuresPerIP ratelimit.Limit
	// FailuresPerAccount bounds failed attempts on one account from one
	// source: one address, or one trusted device. A success from that
	// source clears it. This is the lockout someone who mistypes meets.
	FailuresPerAccount ratelimit.Limit
	// AccountBackstop bounds failed attempts on one account from all
	// sources together (NIST SP 800-63B §5.2.2 allows at most 100
	// consecutive failures): the defence against guessing spread over many
	// addresses. Trusted sources are not refused by it, so the owner keeps
	// getting in while it is spent; their failures still count towards it.
	// A success does not clear it, or an attacker who saw the owner log in
	// would get a fresh budget each time; Unlock does.
	AccountBackstop ratelimit.Limit
	// TrustAddress is how long a successful login from an address exempts
	// that address from the account's AccountBackstop.
	TrustAddress time.Duration
}

// DefaultLoginPolicy: generous for people, ruinous for guessing. One source
// (address or device) takes 10 failures on an account at once, then one every
// 5 minutes (≤ 300 a day, far below what a dictionary needs); all strangers
// together take 100 on an account, then one every 5 minutes; an address 30
// attempts a minute and 100 failures an hour; an address that logged in to an
// account is trusted for it for 30 days. The settable parts (AttemptsPerIP,
// FailuresPerAccount) are settings too, whose defaults are these
// (cmd/authd's TestLimitDefaultsAgree keeps the two equal).
func DefaultLoginPolicy() LoginPolicy {
	return LoginPolicy{
		AttemptsPerIP:      ratelimit.PerMinute(30, 30),
		FailuresPerIP:      ratelimit.PerHour(100, 50),
		FailuresPerAccount: ratelimit.Limit{Rate: 1.0 / 300, Burst: 10},
		AccountBackstop:    ratelimit.Limit{Rate: 1.0 / 300, Burst: 100},
		TrustAddress:       30 * 24 * time.Hour,
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
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// Limiter keys of an account. The per-source ones carry the account's unlock
// generation, so that Unlock can forget them all without knowing which
// sources there were.
func backstopKey(acct string) string { return "login:fail-acct:" + acct }
func genKey(acct string) string      { return "login:gen:" + acct }
func trustKey(acct, ip string) string {
	return key("login:ok:"+acct+":", ipID(ip))
}
func sourceKey(acct, gen, ip string) string {
	return key("login:fail-src:"+acct+":"+gen+":", ipID(ip))
}
func deviceKey(acct, gen, device string) string {
	return key("login:fail-dev:"+acct+":"+gen+":", device)
}

// genLimit makes a limiter bucket count an account's unlocks: each Unlock
// charges one, and the generation is how many are outstanding (Burst −
// Remaining, exact in every backend). The limiter is the only store every
// replica shares that the guard may use, and it cannot delete by prefix; a
// new generation names fresh per-source buckets instead, and the old ones
// expire within their window. A charge comes back after 30 days, far longer
// than any failure window, so by the time the generation falls back to a
// number used before, that number's buckets are long gone.
var genLimit = ratelimit.Limit{Rate: 1.0 / (30 * 24 * 60 * 60), Burst: 100}

// generation returns the account's unlock generation, as a key part.
func (g *LoginGuard) generation(ctx context.Context, acct string) string {
	d, err := g.lim.Allow(ctx, genKey(acct), genLimit, 0)
	if err != nil {
		// The buckets it would name are on the same limiter, which cannot
		// decide now either; any generation does.
		return "0"
	}
	return strconv.Itoa(max(genLimit.Burst-d.Remaining, 0))
}

// trustLimit makes a limiter bucket an expiring flag: a bucket of burst 1
// charged once stays empty for one interval, TrustAddress. An empty bucket
// (a look that is refused) is a recent success.
func (g *LoginGuard) trustLimit() ratelimit.Limit {
	return ratelimit.Limit{Rate: 1 / g.p.TrustAddress.Seconds(), Burst: 1}
}

// trustedAddress reports whether ip logged in to acct within TrustAddress.
func (g *LoginGuard) trustedAddress(ctx context.Context, acct, ip string) bool {
	if g.p.TrustAddress <= 0 || ip == "" {
		return false
	}
	d, err := g.lim.Allow(ctx, trustKey(acct, ip), g.trustLimit(), 0)
	return err == nil && !d.Allowed
}

// Allow refuses an attempt whose address, source or account is over budget.
// It runs before the user is looked up and before any hashing.
func (g *LoginGuard) Allow(ctx context.Context, a account.Attempt) error {
	if a.IP != "" {
		if err := g.check(ctx, ipKey("login:ip:", a.IP), g.p.AttemptsPerIP, 1, a, "attempts_per_ip"); err != nil {
			return err
		}
		if err := g.check(ctx, ipKey("login:fail-ip:", a.IP), g.p.FailuresPerIP, 0, a, "failures_per_ip"); err != nil {
			return err
		}
	}
	if a.Username == "" {
		return nil
	}
	acct := g.account(a.Username)
	gen := g.generation(ctx, acct)
	if a.Device != "" {
		// The owner's own browser: bounded by its own failures only.
		return g.check(ctx, deviceKey(acct, gen, a.Device), g.p.FailuresPerAccount, 0, a, "failures_per_account_device")
	}
	if err := g.check(ctx, sourceKey(acct, gen, a.IP), g.p.FailuresPerAccount, 0, a, "failures_per_account_address"); err != nil {
		return err
	}
	if g.p.AccountBackstop.Rate == 0 || g.trustedAddress(ctx, acct, a.IP) {
		return nil
	}
	return g.check(ctx, backstopKey(acct), g.p.AccountBackstop, 0, a, "failures_per_account")
}

// Fail charges a failed attempt to its address, its source on the account,
// and the account as a whole.
func (g *LoginGuard) Fail(ctx context.Context, a account.Attempt) {
	if a.IP != "" {
		g.charge(ctx, ipKey("login:fail-ip:", a.IP), g.p.FailuresPerIP)
	}
	if a.Username == "" {
		return
	}
	acct := g.account(a.Username)
	gen := g.generation(ctx, acct)
	if a.Device != "" {
		g.charge(ctx, deviceKey(acct, gen, a.Device), g.p.FailuresPerAccount)
	} else {
		g.charge(ctx, sourceKey(acct, gen, a.IP), g.p.FailuresPerAccount)
	}
	g.charge(ctx, backstopKey(acct), g.p.AccountBackstop)
}

// Succeed clears the failures of the source that got in, and trusts its
// address for the account: the owner is back, there.
func (g *LoginGuard) Succeed(ctx context.Context, a account.Attempt) {
	if a.Username == "" {
		return
	}
	acct := g.account(a.Username)
	gen := g.generation(ctx, acct)
	k := sourceKey(acct, gen, a.IP)
	if a.Device != "" {
		// Not the address's failures: those may be someone else's at the
		// same address, and this login says nothing about them.
		k = deviceKey(acct, gen, a.Device)
	}
	if err := g.lim.Reset(ctx, k); err != nil {
		g.log.Warn("reset login failures", "error", err.Error())
	}
	if g.p.TrustAddress > 0 && a.IP != "" {
		// Reset first: charging a flag that is still set would be refused
		// and leave its expiry where it was.
		tk := trustKey(acct, a.IP)
		err := g.lim.Reset(ctx, tk)
		if err == nil {
			_, err = g.lim.Allow(ctx, tk, g.trustLimit(), 1)
		}
		if err != nil {
			g.log.Warn("record trusted login address", "error", err.Error())
		}
	}
}

// Unlock forgets every failure recorded against the account: its own
// backstop and, by starting a new generation, the buckets of all its
// sources. Addresses and devices it trusts stay trusted. Errors are the
// limiter's.
func (g *LoginGuard) Unlock(ctx context.Context, username string) error {
	acct := g.account(username)
	d, err := g.lim.Allow(ctx, genKey(acct), genLimit, 1)
	if err != nil {
		return err
	}
	if !d.Allowed {
		// 100 unlocks of one account within 30 days: the per-source buckets
		// stay; they refill on their own.
		g.log.Warn("unlock: too many unlocks of one account; per-source failures kept")
	}
	return g.lim.Reset(ctx, backstopKey(acct))
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
	// Account limits are a lockout: recorded (and warned of) as one, never
	// with the typed username, which may be a password.
	typ := secevent.RateLimitExceeded
	if strings.HasPrefix(which, "failures_per_account") {
		typ = secevent.LoginLockedOut
	}
	g.events.Emit(secevent.Event{Type: typ, IP: a.IP, Detail: map[string]string{"limit": which}})
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
	return key(kind, ipID(ip))
}

// ipID is what an address counts as: itself, or its /64.
func ipID(ip string) string {
	if a, err := netip.ParseAddr(ip); err == nil {
		a = a.Unmap()
		if a.Is6() {
			ip = netip.PrefixFrom(a, 64).Masked().String()
		}
	}
	return ip
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
