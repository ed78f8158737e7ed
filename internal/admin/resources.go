package admin

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/authd/authd/internal/resource"
	"github.com/authd/authd/internal/store"
)

// Resources manages API resources (*resource.Service): validation, cache
// invalidation and the audit trail are its business.
type Resources interface {
	Create(ctx context.Context, in resource.Input, by resource.Caller) (*store.Resource, error)
	Update(ctx context.Context, id string, in resource.Input, by resource.Caller) (*store.Resource, error)
	Delete(ctx context.Context, id string, by resource.Caller) error
	Get(ctx context.Context, id string) (*store.Resource, error)
	List(ctx context.Context) ([]*store.Resource, error)
}

// resourceResponse is a resource as written, with its id and times.
type resourceResponse struct {
	ID string `json:"id"`
	resource.Input
	CreatedAt int64 `json:"created_at"`
	UpdatedAt int64 `json:"updated_at"`
}

func toResourceResponse(r *store.Resource) *resourceResponse {
	return &resourceResponse{ID: r.ID, Input: resource.InputOf(r), CreatedAt: r.CreatedAt.Unix(), UpdatedAt: r.UpdatedAt.Unix()}
}

// resourceError maps the resource service's errors to problems naming the
// field; a taken indicator is a conflict on the resource member.
func resourceError(err error) error {
	var inv *resource.Invalid
	switch {
	case errors.As(err, &inv):
		return badRequest(inv.Field, inv.Reason)
	case errors.Is(err, store.ErrConflict):
		return &Error{Status: http.StatusConflict, Detail: "a resource with that indicator already exists", Field: "resource"}
	}
	return err
}

func resourceCaller(r *http.Request) resource.Caller {
	c := caller(r)
	return resource.Caller{Credential: c.Credential, IP: c.IP}
}

func (s *Server) createResource(w http.ResponseWriter, r *http.Request) {
	var in resource.Input
	if err := decode(r, &in); err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	res, err := s.res.Create(r.Context(), in, resourceCaller(r))
	if err != nil {
		writeProblem(w, r, s.log, resourceError(err))
		return
	}
	w.Header().Set("Location", "/admin/resources/"+url.PathEscape(res.ID))
	writeJSON(w, http.StatusCreated, toResourceResponse(res))
}

// updateResource replaces the resource's whole description: omitted members
// take their defaults.
func (s *Server) updateResource(w http.ResponseWriter, r *http.Request) {
	var in resource.Input
	if err := decode(r, &in); err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	res, err := s.res.Update(r.Context(), r.PathValue("id"), in, resourceCaller(r))
	if err != nil {
		writeProblem(w, r, s.log, resourceError(err))
		return
	}
	writeJSON(w, http.StatusOK, toResourceResponse(res))
}

func (s *Server) listResources(w http.ResponseWriter, r *http.Request) {
	list, err := s.res.List(r.Context())
	if err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	out := make([]*resourceResponse, 0, len(list))
	for _, res := range list {
		out = append(out, toResourceResponse(res))
	}
	writeJSON(w, http.StatusOK, map[string]any{"resources": out})
}

func (s *Server) getResource(w http.ResponseWriter, r *http.Request) {
	res, err := s.res.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, toResourceResponse(res))
}

func (s *Server) deleteResource(w http.ResponseWriter, r *http.Request) {
	if err := s.res.Delete(r.Context(), r.PathValue("id"), resourceCaller(r)); err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
