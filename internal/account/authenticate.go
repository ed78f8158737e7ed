package account

import (
	"context"
	"errors"
	"log/slog"

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
}

// Guard is the seam for brute-force and credential-stuffing defences (NIST
// SP 800-63B §5.2.2 limits consecutive failures per account). Authenticate
// calls Allow before any lookup or hashing, then exactly one of Fail (the
// attempt ended in ErrInvalidCredentials) or Succeed. Errors from the store
// or the hasher call neither: they say nothing about the password.
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

// Authenticate checks a username and password and returns the user.
//
// Every failure that concerns the credentials is ErrInvalidCredentials: an
// unknown or malformed username (after a decoy verification of the same cost
// as a real one, so timing does not reveal which accounts exist), a wrong
// password, and a disabled account (whose password is verified anyway, for
// the same reason). Other errors: password.ErrBusy (possibly wrapped with a
// context error) when no hashing slot came free, which callers answer with
// 503 and Retry-After; store errors; and whatever the Guard's Allow returns.
//
// When the password matches a hash made with older parameters, it is
// hashed again with the current ones and stored; if that fails the error is
// logged and the login still succeeds.
func (s *Service) Authenticate(ctx context.Context, username, pw string) (*store.User, error) {
	name, nameErr := NormalizeUsername(username)
	at := Attempt{Username: name, IP: ClientIP(ctx)}
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
	if u == nil {
		if err := s.hasher.VerifyDummy(ctx, pw); err != nil {
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
		// log it, pay the decoy's cost so the answer looks like any other
		// failure, and refuse.
		s.log.LogAttrs(ctx, slog.LevelError, "stored password hash unusable",
			slog.String("user_id", u.ID), slog.String("error", err.Error()))
		if err := s.hasher.VerifyDummy(ctx, pw); err != nil {
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
