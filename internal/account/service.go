package account

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"time"

	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/password"
	"github.com/authd/authd/internal/secevent"
	"github.com/authd/authd/internal/store"
)

// ErrInvalidCredentials is the one answer to a failed login, whatever the
// cause (unknown user, wrong password, disabled account), so a caller cannot
// tell them apart and neither can whoever it answers.
var ErrInvalidCredentials = errors.New("account: invalid username or password")

// InputError reports a value a person typed that cannot be accepted. Field is
// "username", "email" or "password"; Reason is a sentence fit to show them
// (for "password", the policy's reason).
type InputError struct {
	Field  string
	Reason string
}

func (e *InputError) Error() string { return "account: invalid " + e.Field + ": " + e.Reason }

// Users is the part of store.Users the service uses.
type Users interface {
	CreateUser(ctx context.Context, u *store.User) error
	User(ctx context.Context, id string) (*store.User, error)
	UserByUsername(ctx context.Context, username string) (*store.User, error)
	SetPasswordHash(ctx context.Context, id, hash string, now time.Time) error
	ChangePassword(ctx context.Context, id, hash string, keepSession []byte, now time.Time) (int64, error)
	SetUserDisabled(ctx context.Context, id string, disabled bool, now time.Time) error
	UpdateUserProfile(ctx context.Context, id string, p store.UserProfile, now time.Time) error
	DeleteUser(ctx context.Context, id string) error
	DeleteUserSessions(ctx context.Context, id string) error
}

// hasher is what the service needs from *password.Hasher. It is an interface
// only so the package's tests can count decoy verifications and inject
// ErrBusy around the real Hasher.
type hasher interface {
	Hash(ctx context.Context, pw string) (string, error)
	Verify(ctx context.Context, pw, encoded string) (ok, needsRehash bool, err error)
	VerifyDummy(ctx context.Context, pw string) error
	// VerifyDecoy is VerifyDummy at the parameters drawn for name from the
	// census of stored hashes (SetCensus), so an unknown name costs what a
	// real user's verification costs.
	VerifyDecoy(ctx context.Context, pw, name string) error
	SetCensus(c password.Census)
}

// Options are the service's optional collaborators. Zero values take the
// defaults.
type Options struct {
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Random fills b with cryptographically random bytes; default
	// crypto/rand. Subject identifiers come from it.
	Random func(b []byte)
	// Logger receives what callers are not told (a failed rehash, a corrupt
	// stored hash); default slog.Default(). Passwords are never logged.
	Logger *slog.Logger
	// Guard, if not nil, is consulted on every Authenticate; see Guard.
	Guard Guard
	// Events receives login.succeeded, login.failed and password.rehashed;
	// nil discards them.
	Events secevent.Emitter
	// Changes, if set, is told after every change that ends what a user
	// holds (password, disabling, deletion).
	Changes UserChanges
	// Logouts, if set, is told before a change ends a user's sessions, so
	// that their relying parties are notified (OpenID Connect Back-Channel
	// Logout 1.0); *logoutnotify.Notifier implements it.
	Logouts SessionEnds
}

// SessionEnds is told, before the change that ends them, that every
// session of subject but keepSession (a session's hash; nil for none) ends.
// An error stops the change: a session must not end unnoticed.
type SessionEnds interface {
	UserSessionsEnding(ctx context.Context, subject string, keepSession []byte) error
}

// Service creates and authenticates users. It is safe for concurrent use.
type Service struct {
	users   Users
	hasher  hasher
	policy  password.Policy
	now     func() time.Time
	random  func([]byte)
	log     *slog.Logger
	guard   Guard
	events  secevent.Emitter
	changes UserChanges
	logouts SessionEnds
}

// New returns a Service storing users in users, hashing with hasher and
// checking new passwords against policy.
func New(users Users, hasher *password.Hasher, policy password.Policy, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Random == nil {
		opts.Random = func(b []byte) { _, _ = rand.Read(b) } // crypto/rand never fails; it crashes instead
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Events == nil {
		opts.Events = secevent.Discard{}
	}
	return &Service{
		users:   users,
		hasher:  hasher,
		policy:  policy,
		now:     opts.Now,
		random:  opts.Random,
		log:     opts.Logger,
		guard:   opts.Guard,
		events:  opts.Events,
		changes: opts.Changes,
		logouts: opts.Logouts,
	}
}

// Create adds a user with a fresh random subject identifier. username is
// normalised (NormalizeUsername); email is optional. The password must pass
// the policy, which also refuses one containing the username or email.
// Errors: *InputError for an unacceptable username, email or password;
// store.ErrConflict (wrapped) when the username is taken; password.ErrBusy.
func (s *Service) Create(ctx context.Context, username, pw, email string) (*store.User, error) {
	name, err := NormalizeUsername(username)
	if err != nil {
		return nil, err
	}
	email, err = normalizeEmail(email)
	if err != nil {
		return nil, err
	}
	if err := s.checkPolicy(pw, name, email); err != nil {
		return nil, err
	}
	hash, err := s.hash(ctx, pw)
	if err != nil {
		return nil, err
	}
	now := s.now()
	u := &store.User{
		ID:           s.newSubject(),
		Username:     name,
		UserProfile:  store.UserProfile{Email: email},
		PasswordHash: hash,
		CreatedAt:    now,
		UpdatedAt:    now,
	}
	if err := s.users.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

// User returns the user with that subject identifier, or store.ErrNotFound.
// The login flow uses it to drop the session of a user since disabled or
// deleted.
func (s *Service) User(ctx context.Context, id string) (*store.User, error) {
	return s.users.User(ctx, id)
}

func (s *Service) checkPolicy(pw string, userInputs ...string) error {
	if err := s.policy.Check(pw, userInputs...); err != nil {
		var pe *password.PolicyError
		if errors.As(err, &pe) {
			return &InputError{Field: "password", Reason: pe.Reason}
		}
		return err
	}
	return nil
}

func (s *Service) hash(ctx context.Context, pw string) (string, error) {
	h, err := s.hasher.Hash(ctx, pw)
	if errors.Is(err, password.ErrPasswordTooLong) {
		// The policy's length cap is below the hasher's, so this means the
		// two were configured inconsistently; still the user's input to fix.
		return "", &InputError{Field: "password", Reason: "Password is too long."}
	}
	return h, err
}

// newSubject is 128 random bits, base64url: the stable "sub" every token
// carries. It is not derived from the username, so renaming a user or reusing
// a freed name never makes one person's tokens name another.
func (s *Service) newSubject() string {
	return oauth.RandomID(s.random, 16)
}
