package account

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/authd/authd/internal/password"
	"github.com/authd/authd/internal/secevent"
	"github.com/authd/authd/internal/store"
)

// Attempt identifies a login attempt to a Guard.
type Attempt struct {
	// Username is the normalised username, or "" when what was typed is not
	// a valid username.
	Username string
	// IP is the client address the caller put in the context with
	// WithClientIP, or "".
	IP string
	// Device identifies a device the caller verified as trusted for
	// Username (the login form's device cookie, set at an earlier
	// successful login and bound to the account), as put in the context
	// with WithTrustedDevice; "" when there is none, as for the password
	// grant. A Guard may exempt a trusted device from limits meant for
	// strangers, never from a bound of its own.
	Device string
}

// Guard is the seam for brute-force and credential-stuffing defences (NIST
// SP 800-63B §5.2.2 limits consecutive failures per account). Authenticate
// calls Allow before any lookup or hashing, then exactly one of Fail (the
// attempt ended in ErrInvalidCredentials) or Succeed. Errors from the store
// or the hasher call neither: they say nothing about the password. Unlock
// and a password change call Unlock.
//
// A Guard must be safe for concurrent use and fast: it runs on every login.
type Guard interface {
	// Allow returns nil to let the attempt proceed. Any error aborts it and
	// is returned by Authenticate unchanged, so a defence can return, say,
	// an *oauth.Error with status 429 and a Retry-After.
	Allow(ctx context.Context, a Attempt) error
	// Fail records a failed attempt.
	Fail(ctx context.Context, a Attempt)
	// Succeed records a successful login (e.g. to reset a failure count).
	Succeed(ctx context.Context, a Attempt)
	// Unlock forgets the failures recorded against the account with this
	// (normalised) username, wherever they came from.
	Unlock(ctx context.Context, username string) error
}

type clientIPKey struct{}

// WithClientIP returns a context carrying the client's IP address, which
// Authenticate passes to the Guard. (Authenticate's signature stays the same
// for both callers; the address is request metadata, like a deadline.)
func WithClientIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, clientIPKey{}, ip)
}

// ClientIP returns the address WithClientIP stored, or "".
func ClientIP(ctx context.Context) string {
	ip, _ := ctx.Value(clientIPKey{}).(string)
	return ip
}

type trustedDeviceKey struct{}

// WithTrustedDevice returns a context carrying the identifier of a device
// the caller has verified as trusted for the username it is about to
// authenticate (see Attempt.Device), which Authenticate passes to the Guard.
func WithTrustedDevice(ctx context.Context, device string) context.Context {
	return context.WithValue(ctx, trustedDeviceKey{}, device)
}

// TrustedDevice returns the identifier WithTrustedDevice stored, or "".
func TrustedDevice(ctx context.Context) string {
	d, _ := ctx.Value(trustedDeviceKey{}).(string)
	return d
}

// Authenticate checks a username and password and returns the user.
//
// Every failure that concerns the credentials is ErrInvalidCredentials: an
// unknown or malformed username (after a decoy verification that costs what
// a real one does, so timing does not reveal which accounts exist: see
// RefreshCensus), a wrong password, a disabled account (whose password is
// verified against its own hash anyway, for the same reason) and an account
// whose stored hash is unusable (which gets the decoy its name would get if
// it did not exist). Other errors: password.ErrBusy (possibly wrapped with a
// context error) when no hashing slot came free, which callers answer with
// 503 and Retry-After; store errors; and whatever the Guard's Allow returns.
//
// When the password matches a hash made with older parameters, it is
// hashed again with the current ones and stored; if that fails the error is
// logged and the login still succeeds.
func (s *Service) Authenticate(ctx context.Context, username, pw string) (*store.User, error) {
	name, nameErr := NormalizeUsername(username)
	at := Attempt{Username: name, IP: ClientIP(ctx), Device: TrustedDevice(ctx)}
	if s.guard != nil {
		if err := s.guard.Allow(ctx, at); err != nil {
			return nil, err
		}
	}
	var u *store.User
	if nameErr == nil {
		var err error
		u, err = s.users.UserByUsername(ctx, name)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	decoyName := name
	if nameErr != nil {
		decoyName = username
	}
	if u == nil {
		if err := s.decoy(ctx, pw, decoyName); err != nil {
			return nil, err
		}
		return nil, s.fail(ctx, at, "")
	}
	ok, needsRehash, err := s.hasher.Verify(ctx, pw, u.PasswordHash)
	if err != nil {
		if errors.Is(err, password.ErrBusy) {
			return nil, err
		}
		// A stored hash that does not parse is our fault, not the user's:
		// log it, pay what the name would cost if it were unknown, so the
		// answer looks like any other failure, and refuse.
		s.log.LogAttrs(ctx, slog.LevelError, "stored password hash unusable",
			slog.String("user_id", u.ID), slog.String("error", err.Error()))
		if err := s.decoy(ctx, pw, decoyName); err != nil {
			return nil, err
		}
		return nil, s.fail(ctx, at, u.ID)
	}
	if !ok || u.Disabled {
		return nil, s.fail(ctx, at, u.ID)
	}
	if needsRehash {
		s.rehash(ctx, u, pw)
	}
	if s.guard != nil {
		s.guard.Succeed(ctx, at)
	}
	s.events.Emit(secevent.Event{Type: secevent.LoginSucceeded, Subject: u.ID, IP: at.IP})
	return u, nil
}

// fail records a failed attempt. The event names the account when it exists,
// never what was typed: a username field sometimes holds a password.
func (s *Service) fail(ctx context.Context, at Attempt, subject string) error {
	if s.guard != nil {
		s.guard.Fail(ctx, at)
	}
	s.events.Emit(secevent.Event{Type: secevent.LoginFailed, Subject: subject, IP: at.IP})
	return ErrInvalidCredentials
}

// rehash upgrades u's stored hash to the current parameters while the
// plaintext is at hand: the only moment it can be done. Failure (a busy
// hasher, a store error) is not the user's problem; the next login retries.
func (s *Service) rehash(ctx context.Context, u *store.User, pw string) {
	hash, err := s.hasher.Hash(ctx, pw)
	if err == nil {
		err = s.users.SetPasswordHash(ctx, u.ID, hash, s.now())
	}
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "password rehash failed",
			slog.String("user_id", u.ID), slog.String("error", err.Error()))
		return
	}
	u.PasswordHash = hash
	s.events.Emit(secevent.Event{Type: secevent.PasswordRehashed, Subject: u.ID})
}

// decoy pays for a verification that cannot succeed, at the parameters the
// hasher draws for name from the census of stored hashes.
func (s *Service) decoy(ctx context.Context, pw, name string) error {
	return s.hasher.VerifyDecoy(ctx, pw, name)
}

// UserLister lists every stored user; store.Users implements it.
type UserLister interface {
	ListUsers(ctx context.Context) ([]*store.User, error)
}

// RefreshCensus counts the stored password hashes by their Argon2id
// parameters and hands the census to the hasher, so that an unknown
// username costs what a real user of some group costs (password.Hasher
// VerifyDecoy). Without it, after the parameters change, every user still
// on the old ones answers faster or slower than any unknown name, which
// tells the two apart. key (32 bytes from the master key, the same on every
// replica) decides which group a name lands in; see password.Census.
// Unparsable stored hashes are left out: they are answered with a decoy too.
func (s *Service) RefreshCensus(ctx context.Context, users UserLister, key []byte) error {
	us, err := users.ListUsers(ctx)
	if err != nil {
		return err
	}
	c := password.Census{Counts: make(map[password.Params]int), Key: key}
	for _, u := range us {
		if p, err := password.ParamsOf(u.PasswordHash); err == nil {
			c.Counts[p]++
		}
	}
	s.hasher.SetCensus(c)
	return nil
}

// RunCensus calls RefreshCensus every interval (default 10 minutes) until
// ctx is done. Take the first census with RefreshCensus before serving, so it
// is there from the first request. A failed refresh is logged and the
// previous census kept: it changes only as users are created and rehashed,
// slowly.
func (s *Service) RunCensus(ctx context.Context, users UserLister, key []byte, every time.Duration) {
	if every <= 0 {
		every = 10 * time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.RefreshCensus(ctx, users, key); err != nil && ctx.Err() == nil {
			s.log.LogAttrs(ctx, slog.LevelWarn, "password census refresh failed", slog.String("error", err.Error()))
		}
	}
}
