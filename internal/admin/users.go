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

// Accounts creates users and sets passwords, applying the password policy
// (account.Service).
type Accounts interface {
	Create(ctx context.Context, username, pw, email string) (*store.User, error)
	SetPassword(ctx context.Context, userID, pw string) error
}

// UserStore is the slice of the store the user endpoints read and change.
type UserStore interface {
	User(ctx context.Context, id string) (*store.User, error)
	ListUsers(ctx context.Context) ([]*store.User, error)
	DeleteUser(ctx context.Context, id string) error
	SetUserDisabled(ctx context.Context, id string, disabled bool, now time.Time) error
}

// userJSON never carries the password hash.
type userJSON struct {
	ID        string    `json:"id"`
	Username  string    `json:"username"`
	Email     string    `json:"email,omitempty"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func toUserJSON(u *store.User) userJSON {
	return userJSON{ID: u.ID, Username: u.Username, Email: u.Email, Disabled: u.Disabled, CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC()}
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
	s.opts.Events.Emit(secevent.Event{Type: secevent.AdminUserCreated, Subject: u.ID})
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

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	u, err := s.users.User(r.Context(), r.PathValue("id"))
	if err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, toUserJSON(u))
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := s.users.User(r.Context(), id); err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	// Revoke before deleting: if the delete then fails it can be retried,
	// whereas a user deleted with live tokens could not be found again.
	if s.opts.OnUserDelete != nil {
		if err := s.opts.OnUserDelete(r.Context(), id); err != nil {
			writeProblem(w, r, s.log, err)
			return
		}
	}
	if err := s.users.DeleteUser(r.Context(), id); err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	s.opts.Events.Emit(secevent.Event{Type: secevent.AdminUserDeleted, Subject: id})
	w.WriteHeader(http.StatusNoContent)
}

type setPasswordRequest struct {
	Password string `json:"password"`
}

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
	if err := s.accounts.SetPassword(r.Context(), r.PathValue("id"), req.Password); err != nil {
		writeProblem(w, r, s.log, userError(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type patchUserRequest struct {
	Disabled *bool `json:"disabled"`
}

func (s *Server) patchUser(w http.ResponseWriter, r *http.Request) {
	var req patchUserRequest
	if err := decode(r, &req); err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	if req.Disabled == nil {
		writeProblem(w, r, s.log, badRequest("disabled", "only disabled can be changed"))
		return
	}
	id := r.PathValue("id")
	if err := s.users.SetUserDisabled(r.Context(), id, *req.Disabled, s.opts.Now().UTC()); err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	u, err := s.users.User(r.Context(), id)
	if err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, toUserJSON(u))
}
