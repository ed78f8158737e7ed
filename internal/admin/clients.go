package admin

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/authd/authd/internal/client"
	"github.com/authd/authd/internal/oauth"
)

// clientResponse is RFC 7591 §3.2.1: the metadata, the id, and the secret only
// when it was just generated.
type clientResponse struct {
	client.Metadata
	ClientSecret          string `json:"client_secret,omitempty"`
	ClientIDIssuedAt      int64  `json:"client_id_issued_at"`
	ClientSecretExpiresAt *int64 `json:"client_secret_expires_at,omitempty"`
	UpdatedAt             int64  `json:"updated_at"`
}

func toResponse(c *oauth.Client) *clientResponse {
	return &clientResponse{
		Metadata:         client.MetadataOf(c),
		ClientIDIssuedAt: c.CreatedAt.Unix(),
		UpdatedAt:        c.UpdatedAt.Unix(),
	}
}

// clientError maps the client service's errors to problems naming the field.
func clientError(err error) error {
	var im *client.InvalidMetadata
	switch {
	case errors.As(err, &im):
		return badRequest(im.Field, im.Reason)
	case errors.Is(err, client.ErrNoSecret):
		return &Error{Status: http.StatusConflict, Detail: "a public client (token_endpoint_auth_method none), or one that proves itself with keys or a certificate, has no secret to rotate"}
	}
	return err
}

func (s *Server) createClient(w http.ResponseWriter, r *http.Request) {
	var m client.Metadata
	if err := decode(r, &m); err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	c, secret, err := s.clients.Create(r.Context(), m, caller(r))
	if err != nil {
		writeProblem(w, r, s.log, clientError(err))
		return
	}
	resp := toResponse(c)
	resp.ClientSecret = secret
	if secret != "" {
		never := int64(0)
		resp.ClientSecretExpiresAt = &never
	}
	w.Header().Set("Location", "/admin/clients/"+url.PathEscape(c.ID))
	writeJSON(w, http.StatusCreated, resp)
}

// updateClient is RFC 7592 §2.2: the body is the client's whole metadata,
// which replaces what was registered (omitted members take their defaults).
// The secret is kept; rotate it with POST …/secret.
func (s *Server) updateClient(w http.ResponseWriter, r *http.Request) {
	var m client.Metadata
	if err := decode(r, &m); err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	c, err := s.clients.Update(r.Context(), r.PathValue("id"), m, caller(r))
	if err != nil {
		writeProblem(w, r, s.log, clientError(err))
		return
	}
	writeJSON(w, http.StatusOK, toResponse(c))
}

func (s *Server) listClients(w http.ResponseWriter, r *http.Request) {
	cs, err := s.clients.List(r.Context())
	if err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	out := make([]*clientResponse, 0, len(cs))
	for _, c := range cs {
		out = append(out, toResponse(c))
	}
	writeJSON(w, http.StatusOK, map[string]any{"clients": out})
}

func (s *Server) getClient(w http.ResponseWriter, r *http.Request) {
	c, err := s.clients.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, toResponse(c))
}

func (s *Server) deleteClient(w http.ResponseWriter, r *http.Request) {
	if err := s.clients.Delete(r.Context(), r.PathValue("id"), caller(r)); err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type secretResponse struct {
	ClientID              string `json:"client_id"`
	ClientSecret          string `json:"client_secret"`
	ClientSecretExpiresAt int64  `json:"client_secret_expires_at"`
}

func (s *Server) rotateSecret(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	secret, err := s.clients.RotateSecret(r.Context(), id, caller(r))
	if err != nil {
		writeProblem(w, r, s.log, clientError(err))
		return
	}
	writeJSON(w, http.StatusOK, secretResponse{ClientID: id, ClientSecret: secret})
}

// createRegistrationToken mints an RFC 7591 §3 initial access token:
// optional body {"expires_in": seconds, "max_uses": n} (one day, one use by
// default); 201 {"token", "expires_at"} (Unix seconds). The token is shown
// this once.
func (s *Server) createRegistrationToken(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ExpiresIn int64 `json:"expires_in"`
		MaxUses   int   `json:"max_uses"`
	}
	if r.ContentLength != 0 {
		if err := decode(r, &req); err != nil {
			writeProblem(w, r, s.log, err)
			return
		}
	}
	if req.ExpiresIn < 0 || req.ExpiresIn > int64(client.MaxRegistrationTokenTTL/time.Second) {
		writeProblem(w, r, s.log, badRequest("expires_in", "expires_in must be from 60 to "+
			strconv.FormatInt(int64(client.MaxRegistrationTokenTTL/time.Second), 10)+" seconds"))
		return
	}
	tok, exp, err := s.clients.MintRegistrationToken(r.Context(), time.Duration(req.ExpiresIn)*time.Second, req.MaxUses, caller(r))
	if err != nil {
		writeProblem(w, r, s.log, clientError(err))
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"token": tok, "expires_at": exp.Unix()})
}
