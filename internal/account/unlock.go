package account

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/authd/authd/internal/store"
)

// Unlock clears the brute-force counters the Guard keeps for a user, named
// by subject identifier or by username: an administrator's answer to an
// owner who is locked out. The identifier is tried first; a username is
// normalised as at login. Errors: store.ErrNotFound (wrapped) for an unknown
// user, store errors, and the Guard's error when its counters could not be
// cleared. Without a Guard there is nothing to clear.
func (s *Service) Unlock(ctx context.Context, user string) error {
	u, err := s.Resolve(ctx, user)
	if err != nil {
		return err
	}
	return s.clearLockout(ctx, u)
}

// Resolve finds a user by subject identifier, then by username (normalised
// as at login): commands and admin paths take either. Errors: store.ErrNotFound
// (wrapped) for an unknown user.
func (s *Service) Resolve(ctx context.Context, ref string) (*store.User, error) {
	u, err := s.users.User(ctx, ref)
	if !errors.Is(err, store.ErrNotFound) {
		return u, err
	}
	name, nerr := NormalizeUsername(ref)
	if nerr != nil {
		return nil, fmt.Errorf("account: no such user: %w", store.ErrNotFound)
	}
	return s.users.UserByUsername(ctx, name)
}

// clearLockout forgets the Guard's failures for u. SetPassword calls it
// after storing a new hash: a reset is how a locked-out owner gets back in,
// and the failures it follows were against a password that no longer works.
func (s *Service) clearLockout(ctx context.Context, u *store.User) error {
	if s.guard == nil {
		return nil
	}
	if err := s.guard.Unlock(ctx, u.Username); err != nil {
		return err
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "login failures cleared", slog.String("user_id", u.ID))
	return nil
}

// passwordChanged is what SetPassword runs once the new hash is stored. A
// failure to clear the counters is logged, not returned: the password did
// change, and the counters refill by themselves.
func (s *Service) passwordChanged(ctx context.Context, u *store.User) {
	if err := s.clearLockout(ctx, u); err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "clear login failures after a password change",
			slog.String("user_id", u.ID), slog.String("error", err.Error()))
	}
}
