package admin

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/authd/authd/internal/account"
	"github.com/authd/authd/internal/password"
	"github.com/authd/authd/internal/secevent"
	"github.com/authd/authd/internal/store"
)

// Accounts creates and changes users, applying the password policy and
// ending what a user holds when their password or status changes
// (account.Service).
type Accounts interface {
	Create(ctx context.Context, username, pw, email string) (*store.User, error)
	SetPassword(ctx context.Context, userID, pw string) error
	SetDisabled(ctx context.Context, userID string, disabled bool) error
	UpdateProfile(ctx context.Context, userID string, u account.ProfileUpdate) (*store.User, error)
	Delete(ctx context.Context, userID string) error
	// Resolve finds a user by id or, failing that, by username.
	Resolve(ctx context.Context, idOrUsername string) (*store.User, error)
	// Unlock clears the brute-force counters of a user named by id or
	// username; an error matching store.ErrNotFound for an unknown user.
	Unlock(ctx context.Context, user string) error
	// EndSessions signs the user out of every browser session, telling
	// their relying parties first.
	EndSessions(ctx context.Context, userID string) error
}

// UserStore is the slice of the store the user endpoints read.
type UserStore interface {
	User(ctx context.Context, id string) (*store.User, error)
	ListUsers(ctx context.Context) ([]*store.User, error)
}

// userJSON never carries the password hash.
type userJSON struct {
	ID            string `json:"id"`
	Username      string `json:"username"`
	Email         string `json:"email,omitempty"`
	EmailVerified bool   `json:"email_verified"`
	Name          string `json:"name,omitempty"`
	GivenName     string `json:"given_name,omitempty"`
	FamilyName    string `json:"family_name,omitempty"`
	PhoneNumber   string `json:"phone_number,omitempty"`
	// PhoneNumberVerified is omitted with the number it would be about.
	PhoneNumberVerified *bool          `json:"phone_number_verified,omitempty"`
	Address             *store.Address `json:"address,omitempty"`
	Disabled            bool           `json:"disabled"`
	CreatedAt           time.Time      `json:"created_at"`
	UpdatedAt           time.Time      `json:"updated_at"`
}

func toUserJSON(u *store.User) userJSON {
	j := userJSON{
		ID: u.ID, Username: u.Username, Email: u.Email, EmailVerified: u.EmailVerified,
		Name: u.Name, GivenName: u.GivenName, FamilyName: u.FamilyName,
		PhoneNumber: u.PhoneNumber, Address: u.Address,
		Disabled: u.Disabled, CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC(),
	}
	if u.PhoneNumber != "" {
		v := u.PhoneNumberVerified
		j.PhoneNumberVerified = &v
	}
	return j
}

// userError maps account errors to problems naming the field.
func userError(err error) error {
	var ie *account.InputError
	switch {
	case errors.As(err, &ie):
		return badRequest(ie.Field, ie.Reason)
	case errors.Is(err, store.ErrConflict):
		return &Error{Status: http.StatusConflict, Detail: "that username is taken", Field: "username"}
	case errors.Is(err, password.ErrBusy):
		return &Error{Status: http.StatusServiceUnavailable, Detail: "password hashing is saturated; retry shortly"}
	}
	return err
}

type createUserRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Email    string `json:"email"`
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	var req createUserRequest
	if err := decode(r, &req); err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	if req.Password == "" {
		writeProblem(w, r, s.log, badRequest("password", "password is required"))
		return
	}
	u, err := s.accounts.Create(r.Context(), req.Username, req.Password, req.Email)
	if err != nil {
		writeProblem(w, r, s.log, userError(err))
		return
	}
	s.log.Info("user created", "user_id", u.ID)
	s.audit(r, secevent.Event{Type: secevent.AdminUserCreated, Subject: u.ID})
	w.Header().Set("Location", "/admin/users/"+url.PathEscape(u.ID))
	writeJSON(w, http.StatusCreated, toUserJSON(u))
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	us, err := s.users.ListUsers(r.Context())
	if err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	out := make([]userJSON, 0, len(us))
	for _, u := range us {
		out = append(out, toUserJSON(u))
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": out})
}

// user resolves the {id} of the path: a user id, or a username.
func (s *Server) user(r *http.Request) (*store.User, error) {
	return s.accounts.Resolve(r.Context(), r.PathValue("id"))
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	u, err := s.user(r)
	if err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, toUserJSON(u))
}

// deleteUser removes the user; their tokens end with them (introspection
// checks the user behind every token issued to a person).
func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) {
	u, err := s.user(r)
	if err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	id := u.ID
	if err := s.accounts.Delete(r.Context(), id); err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	s.audit(r, secevent.Event{Type: secevent.AdminUserDeleted, Subject: id})
	w.WriteHeader(http.StatusNoContent)
}

type setPasswordRequest struct {
	Password string `json:"password"`
}

// setPassword is an administrator's reset: every session, refresh token and
// access token of the user ends.
func (s *Server) setPassword(w http.ResponseWriter, r *http.Request) {
	var req setPasswordRequest
	if err := decode(r, &req); err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	if req.Password == "" {
		writeProblem(w, r, s.log, badRequest("password", "password is required"))
		return
	}
	u, err := s.user(r)
	if err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	if err := s.accounts.SetPassword(r.Context(), u.ID, req.Password); err != nil {
		writeProblem(w, r, s.log, userError(err))
		return
	}
	s.audit(r, secevent.Event{Type: secevent.UserPasswordChanged, Subject: u.ID, Detail: map[string]string{"by": "admin"}})
	w.WriteHeader(http.StatusNoContent)
}

// patchUserRequest is a partial update: absent members stay as they are.
type patchUserRequest struct {
	Disabled      *bool   `json:"disabled"`
	Email         *string `json:"email"`
	EmailVerified *bool   `json:"email_verified"`
	Name          *string `json:"name"`
	GivenName     *string `json:"given_name"`
	FamilyName    *string `json:"family_name"`
	// OpenID Connect Core §5.1; an empty address object removes it.
	PhoneNumber         *string        `json:"phone_number"`
	PhoneNumberVerified *bool          `json:"phone_number_verified"`
	Address             *store.Address `json:"address"`
}

// patchUser changes the profile and/or the disabled flag. Changing the
// e-mail address clears email_verified unless the same request sets it.
func (s *Server) patchUser(w http.ResponseWriter, r *http.Request) {
	var req patchUserRequest
	if err := decode(r, &req); err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	cur, err := s.user(r)
	if err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	id := cur.ID
	profile := account.ProfileUpdate{Email: req.Email, EmailVerified: req.EmailVerified, Name: req.Name,
		GivenName: req.GivenName, FamilyName: req.FamilyName,
		PhoneNumber: req.PhoneNumber, PhoneNumberVerified: req.PhoneNumberVerified, Address: req.Address}
	if profile == (account.ProfileUpdate{}) && req.Disabled == nil {
		writeProblem(w, r, s.log, badRequest("", "nothing to change: give disabled, email, email_verified, name, given_name, family_name, phone_number, phone_number_verified or address"))
		return
	}
	if profile != (account.ProfileUpdate{}) {
		if _, err := s.accounts.UpdateProfile(r.Context(), id, profile); err != nil {
			writeProblem(w, r, s.log, userError(err))
			return
		}
		s.audit(r, secevent.Event{Type: secevent.UserUpdated, Subject: id})
	}
	if req.Disabled != nil {
		if err := s.accounts.SetDisabled(r.Context(), id, *req.Disabled); err != nil {
			writeProblem(w, r, s.log, err)
			return
		}
		typ := secevent.UserEnabled
		if *req.Disabled {
			typ = secevent.UserDisabled
		}
		s.audit(r, secevent.Event{Type: typ, Subject: id})
	}
	u, err := s.users.User(r.Context(), id)
	if err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, toUserJSON(u))
}
