package account

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/authd/authd/internal/store"
)

// UserChanges is told after a user changed, so that what caches hold of them
// (token.Service) is dropped and their tokens end within the staleness bound.
type UserChanges interface {
	InvalidateUser(ctx context.Context, id string) error
}

// changed runs after every change to user id that ends or alters what they
// hold. The change is durable already; an error here means some replica may
// serve the old state until its cache entry expires (a minute at most), so
// it is returned for the caller to report.
func (s *Service) changed(ctx context.Context, id string) error {
	if s.changes == nil {
		return nil
	}
	return s.changes.InvalidateUser(ctx, id)
}

// sessionsEnding tells Options.Logouts, before a change, that the user's
// sessions (but keepSession) end. It runs first so that nothing ends
// without its relying parties being told; should the change then fail, they
// were told once too often, which costs a sign-in.
func (s *Service) sessionsEnding(ctx context.Context, userID string, keepSession []byte) error {
	if s.logouts == nil {
		return nil
	}
	return s.logouts.UserSessionsEnding(ctx, userID, keepSession)
}

// EndSessions ends every browser session of the user (an administrator
// signing them out everywhere), telling their relying parties first. Tokens
// already issued stay valid until they expire or are revoked.
// Errors: store.ErrNotFound, store failures.
func (s *Service) EndSessions(ctx context.Context, userID string) error {
	if _, err := s.users.User(ctx, userID); err != nil {
		return err
	}
	if err := s.sessionsEnding(ctx, userID, nil); err != nil {
		return err
	}
	return s.users.DeleteUserSessions(ctx, userID)
}

// SetPassword is an administrator's reset: it replaces the password (after
// the policy check) and ends everything the old one opened: every session,
// every refresh token and, through the user's generation, every access token.
// Errors: store.ErrNotFound, *InputError, password.ErrBusy.
func (s *Service) SetPassword(ctx context.Context, userID, pw string) error {
	return s.setPassword(ctx, userID, pw, nil)
}

// ChangePassword is a person changing their own password: current must be
// right (checked like a login, with the same defences), and the session that
// made the change (keepSession, the hash of its cookie; nil for none) stays
// signed in while every other session and token ends.
// Errors: ErrInvalidCredentials for a wrong current password, and those of
// SetPassword.
func (s *Service) ChangePassword(ctx context.Context, userID, current, pw string, keepSession []byte) error {
	u, err := s.users.User(ctx, userID)
	if err != nil {
		return err
	}
	if _, err := s.Authenticate(ctx, u.Username, current); err != nil {
		return err
	}
	return s.setPassword(ctx, userID, pw, keepSession)
}

func (s *Service) setPassword(ctx context.Context, userID, pw string, keepSession []byte) error {
	u, err := s.users.User(ctx, userID)
	if err != nil {
		return err
	}
	if err := s.checkPolicy(pw, u.Username, u.Email); err != nil {
		return err
	}
	hash, err := s.hash(ctx, pw)
	if err != nil {
		return err
	}
	if err := s.sessionsEnding(ctx, u.ID, keepSession); err != nil {
		return err
	}
	if _, err := s.users.ChangePassword(ctx, u.ID, hash, keepSession, s.now()); err != nil {
		return err
	}
	s.passwordChanged(ctx, u)
	return s.changed(ctx, u.ID)
}

// SetDisabled disables or enables a user. Disabling ends every session and
// token they hold; enabling revives none of them.
func (s *Service) SetDisabled(ctx context.Context, userID string, disabled bool) error {
	if disabled {
		if err := s.sessionsEnding(ctx, userID, nil); err != nil {
			return err
		}
	}
	if err := s.users.SetUserDisabled(ctx, userID, disabled, s.now()); err != nil {
		return err
	}
	return s.changed(ctx, userID)
}

// Delete removes a user; their tokens end with them.
func (s *Service) Delete(ctx context.Context, userID string) error {
	if err := s.sessionsEnding(ctx, userID, nil); err != nil {
		return err
	}
	if err := s.users.DeleteUser(ctx, userID); err != nil {
		return err
	}
	return s.changed(ctx, userID)
}

// ProfileUpdate is a partial change of a user's profile: nil fields are
// left as they are.
type ProfileUpdate struct {
	Email         *string
	EmailVerified *bool
	Name          *string
	GivenName     *string
	FamilyName    *string
	// PhoneNumber and PhoneNumberVerified are OpenID Connect Core §5.1's
	// phone_number claims; a new number is unverified unless set so in the
	// same update, as for e-mail.
	PhoneNumber         *string
	PhoneNumberVerified *bool
	// Address replaces the §5.1.1 address; an empty Address removes it.
	Address *store.Address
}

// MaxNameRunes bounds the name claims.
const MaxNameRunes = 200

// UpdateProfile applies u to the user's profile and returns the user. A new
// e-mail address is not verified unless EmailVerified is set in the same
// update: the old address's verification says nothing of the new one.
// Errors: store.ErrNotFound, *InputError naming the field.
func (s *Service) UpdateProfile(ctx context.Context, userID string, u ProfileUpdate) (*store.User, error) {
	cur, err := s.users.User(ctx, userID)
	if err != nil {
		return nil, err
	}
	p := cur.UserProfile
	if u.Email != nil {
		email, err := normalizeEmail(*u.Email)
		if err != nil {
			return nil, err
		}
		if email != p.Email {
			p.Email, p.EmailVerified = email, false
		}
	}
	if u.EmailVerified != nil {
		p.EmailVerified = *u.EmailVerified
	}
	if p.Email == "" && p.EmailVerified {
		return nil, &InputError{Field: "email_verified", Reason: "There is no e-mail address to verify."}
	}
	for _, f := range []struct {
		field string
		in    *string
		out   *string
	}{{"name", u.Name, &p.Name}, {"given_name", u.GivenName, &p.GivenName}, {"family_name", u.FamilyName, &p.FamilyName}} {
		if f.in == nil {
			continue
		}
		v, err := cleanName(f.field, *f.in)
		if err != nil {
			return nil, err
		}
		*f.out = v
	}
	if err := updateContact(&p, u); err != nil {
		return nil, err
	}
	now := s.now()
	if err := s.users.UpdateUserProfile(ctx, cur.ID, p, now); err != nil {
		return nil, err
	}
	cur.UserProfile, cur.UpdatedAt = p, now
	return cur, nil
}

// cleanName trims a name claim and refuses control characters and excess length.
func cleanName(field, v string) (string, error) {
	v = strings.TrimSpace(v)
	if !utf8.ValidString(v) || utf8.RuneCountInString(v) > MaxNameRunes {
		return "", &InputError{Field: field, Reason: "Names must be valid text of at most 200 characters."}
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return "", &InputError{Field: field, Reason: "Names must not contain control characters."}
		}
	}
	return v, nil
}
