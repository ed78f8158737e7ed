package admin

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/authd/authd/internal/issuer"
	"github.com/authd/authd/internal/store"
)

// TrustedIssuers manages trusted issuers (*issuer.Service): validation,
// discovery, cache invalidation and the audit trail are its business.
type TrustedIssuers interface {
	Create(ctx context.Context, in issuer.Input, by issuer.Caller) (*store.TrustedIssuer, error)
	Delete(ctx context.Context, id string, by issuer.Caller) error
	Get(ctx context.Context, id string) (*store.TrustedIssuer, error)
	List(ctx context.Context) ([]*store.TrustedIssuer, error)
}

// trustedIssuerResponse is a trusted issuer as stored, with its id.
type trustedIssuerResponse struct {
	ID string `json:"id"`
	issuer.Input
	CreatedAt int64 `json:"created_at"`
}

func toTrustedIssuerResponse(ti *store.TrustedIssuer) *trustedIssuerResponse {
	return &trustedIssuerResponse{ID: ti.ID, CreatedAt: ti.CreatedAt.Unix(), Input: issuer.Input{
		Issuer: ti.Issuer, JWKSURI: ti.JWKSURI, Audience: ti.Audience, SubjectMapping: ti.SubjectMapping}}
}

// trustedIssuerError maps the service's errors to problems naming the
// field; a registered issuer is a conflict on the issuer member.
func trustedIssuerError(err error) error {
	var inv *issuer.Invalid
	switch {
	case errors.As(err, &inv):
		return badRequest(inv.Field, inv.Reason)
	case errors.Is(err, store.ErrConflict):
		return &Error{Status: http.StatusConflict, Detail: "that issuer is already trusted", Field: "issuer"}
	}
	return err
}

func issuerCaller(r *http.Request) issuer.Caller {
	c := caller(r)
	return issuer.Caller{Credential: c.Credential, IP: c.IP}
}

func (s *Server) createTrustedIssuer(w http.ResponseWriter, r *http.Request) {
	var in issuer.Input
	if err := decode(r, &in); err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	ti, err := s.issuers.Create(r.Context(), in, issuerCaller(r))
	if err != nil {
		writeProblem(w, r, s.log, trustedIssuerError(err))
		return
	}
	w.Header().Set("Location", "/admin/trusted-issuers/"+url.PathEscape(ti.ID))
	writeJSON(w, http.StatusCreated, toTrustedIssuerResponse(ti))
}

func (s *Server) listTrustedIssuers(w http.ResponseWriter, r *http.Request) {
	list, err := s.issuers.List(r.Context())
	if err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	out := make([]*trustedIssuerResponse, 0, len(list))
	for _, ti := range list {
		out = append(out, toTrustedIssuerResponse(ti))
	}
	writeJSON(w, http.StatusOK, map[string]any{"trusted_issuers": out})
}

func (s *Server) getTrustedIssuer(w http.ResponseWriter, r *http.Request) {
	ti, err := s.issuers.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, toTrustedIssuerResponse(ti))
}

func (s *Server) deleteTrustedIssuer(w http.ResponseWriter, r *http.Request) {
	if err := s.issuers.Delete(r.Context(), r.PathValue("id"), issuerCaller(r)); err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
