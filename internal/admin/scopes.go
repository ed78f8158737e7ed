package admin

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/secevent"
)

// Scope descriptions are what the consent page says a scope lets a client
// do. The built-in scopes (openid, profile, email, offline_access) have
// descriptions of their own, which one set here replaces. The consent page
// caches them (30 seconds), so a change shows within that time on every
// replica.

// ScopeStore keeps scope descriptions (store.ScopeDescriptions).
type ScopeStore interface {
	SetScopeDescription(ctx context.Context, scope, description string, now time.Time) error
	// DeleteScopeDescription returns an error matching store.ErrNotFound
	// when the scope has no description.
	DeleteScopeDescription(ctx context.Context, scope string) error
	ScopeDescriptions(ctx context.Context) (map[string]string, error)
}

// Bounds on a scope description: a line on the consent page.
const (
	maxScopeNameBytes        = 256
	maxScopeDescriptionRunes = 500
)

type scopeJSON struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

type putScopeRequest struct {
	Description *string `json:"description"`
}

// scopeName validates the {name} of the path: a scope token (RFC 6749 §3.3).
func scopeName(r *http.Request) (string, error) {
	name := r.PathValue("name")
	if !oauth.ValidScopeToken(name) || len(name) > maxScopeNameBytes {
		return "", badRequest("name", "the scope name must be 1 to 256 printable ASCII characters other than space, \" and \\ (RFC 6749 §3.3)")
	}
	return name, nil
}

// validScopeDescription accepts 1 to 500 characters of valid UTF-8 text
// that is not all space and has no control characters: it is one line on
// a page (html/template escapes the rest).
func validScopeDescription(d string) bool {
	if !utf8.ValidString(d) || utf8.RuneCountInString(d) > maxScopeDescriptionRunes {
		return false
	}
	blank := true
	for _, r := range d {
		if unicode.IsControl(r) {
			return false
		}
		if !unicode.IsSpace(r) {
			blank = false
		}
	}
	return !blank
}

// putScope is PUT /admin/scopes/{name}: it sets or replaces the
// description. 204.
func (s *Server) putScope(w http.ResponseWriter, r *http.Request) {
	name, err := scopeName(r)
	if err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	var req putScopeRequest
	if err := decode(r, &req); err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	if req.Description == nil || !validScopeDescription(*req.Description) {
		writeProblem(w, r, s.log, badRequest("description", "description must be 1 to 500 characters of text without control characters"))
		return
	}
	if err := s.scopes.SetScopeDescription(r.Context(), name, *req.Description, s.opts.Now()); err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	s.log.Info("scope description set", "scope", name)
	s.audit(r, secevent.Event{Type: secevent.AdminScopeUpdated, Detail: map[string]string{"scope": name}})
	w.WriteHeader(http.StatusNoContent)
}

// listScopes is GET /admin/scopes: every description, sorted by scope.
func (s *Server) listScopes(w http.ResponseWriter, r *http.Request) {
	m, err := s.scopes.ScopeDescriptions(r.Context())
	if err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	out := make([]scopeJSON, 0, len(m))
	for name, d := range m {
		out = append(out, scopeJSON{Name: name, Description: d})
	}
	slices.SortFunc(out, func(a, b scopeJSON) int { return cmp.Compare(a.Name, b.Name) })
	writeJSON(w, http.StatusOK, map[string]any{"scopes": out})
}

// deleteScope is DELETE /admin/scopes/{name}: 204, or 404 when the scope
// has no description.
func (s *Server) deleteScope(w http.ResponseWriter, r *http.Request) {
	name, err := scopeName(r)
	if err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	if err := s.scopes.DeleteScopeDescription(r.Context(), name); err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	s.log.Info("scope description deleted", "scope", name)
	s.audit(r, secevent.Event{Type: secevent.AdminScopeDeleted, Detail: map[string]string{"scope": name}})
	w.WriteHeader(http.StatusNoContent)
}
