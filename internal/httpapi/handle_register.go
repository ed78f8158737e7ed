package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/authd/authd/internal/client"
	"github.com/authd/authd/internal/oauth"
)

// PathRegister is the RFC 7591 registration endpoint; a registered client's
// RFC 7592 configuration endpoint is PathRegister + "/" + client_id.
const PathRegister = "/oauth2/register"

// Registrar is what the registration endpoints need of client.Service.
type Registrar interface {
	Register(ctx context.Context, m client.Metadata, initialToken string, open bool, by client.Caller) (*client.Registration, error)
	Registered(ctx context.Context, id, token string) (*oauth.Client, error)
	UpdateRegistered(ctx context.Context, id, token string, m client.Metadata, by client.Caller) (*oauth.Client, error)
	DeleteRegistered(ctx context.Context, id, token string, by client.Caller) error
}

// Registration configures dynamic client registration; nil in Options
// serves no registration endpoint (AUTHD_REGISTRATION=off).
type Registration struct {
	Clients Registrar
	// Open lets anyone register without an initial access token.
	Open bool
	// AllowOpen, if set, bounds open registrations per address
	// (defense.Requests.AllowRegistration); it is asked only for requests
	// without an initial access token.
	AllowOpen func(ctx context.Context, ip string) error
}

// RFC 7591 §3.2.2 error codes.
const (
	codeInvalidRedirectURI    = "invalid_redirect_uri"
	codeInvalidClientMetadata = "invalid_client_metadata"
)

// registrationResponse is RFC 7591 §3.2.1 and RFC 7592 §3: the metadata as
// registered, the client's credentials, and how to manage the registration.
type registrationResponse struct {
	client.Metadata
	ClientSecret            string `json:"client_secret,omitempty"`
	ClientIDIssuedAt        int64  `json:"client_id_issued_at"`
	ClientSecretExpiresAt   *int64 `json:"client_secret_expires_at,omitempty"`
	RegistrationAccessToken string `json:"registration_access_token,omitempty"`
	RegistrationClientURI   string `json:"registration_client_uri"`
}

func (s *Server) registrationResponse(c *oauth.Client, secret, token string) registrationResponse {
	resp := registrationResponse{
		Metadata:                client.MetadataOf(c),
		ClientSecret:            secret,
		ClientIDIssuedAt:        c.CreatedAt.Unix(),
		RegistrationAccessToken: token,
		RegistrationClientURI:   s.opts.Issuer + PathRegister + "/" + c.ID,
	}
	// §3.2.1: REQUIRED when a secret was issued; 0 means it does not expire.
	if c.UsesSecret() {
		never := int64(0)
		resp.ClientSecretExpiresAt = &never
	}
	return resp
}

// handleRegister is RFC 7591 §3.1.
func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	reg := s.opts.Registration
	m, _, err := readMetadata(r)
	if err != nil {
		s.writeRegistrationError(w, r, err)
		return
	}
	initial := ""
	if r.Header.Get("Authorization") != "" || !reg.Open {
		// §3: the server MAY require an initial access token; a token
		// presented under open registration is still checked, so an
		// operator's token is never silently ignored.
		if initial, err = bearerHeader(r); err != nil {
			s.writeBearerError(w, r, err)
			return
		}
	} else if reg.AllowOpen != nil {
		if err := reg.AllowOpen(r.Context(), s.opts.ClientIPs.Of(r)); err != nil {
			writeError(w, r, s.log, err)
			return
		}
	}
	out, err := reg.Clients.Register(r.Context(), m, initial, reg.Open, client.Caller{IP: s.opts.ClientIPs.Of(r)})
	if err != nil {
		s.writeRegistrationError(w, r, err)
		return
	}
	SetClientID(r.Context(), out.Client.ID)
	writeJSON(w, http.StatusCreated, s.registrationResponse(out.Client, out.Secret, out.Token))
}

// handleRegistration serves RFC 7592 §2: read, update and delete a client's
// registration with its registration access token.
func (s *Server) handleRegistration(w http.ResponseWriter, r *http.Request) {
	reg := s.opts.Registration
	id := r.PathValue("id")
	tok, err := bearerHeader(r)
	if err != nil {
		s.writeBearerError(w, r, err)
		return
	}
	by := client.Caller{IP: s.opts.ClientIPs.Of(r)}
	switch r.Method {
	case http.MethodGet:
		c, err := reg.Clients.Registered(r.Context(), id, tok)
		if err != nil {
			s.writeRegistrationError(w, r, err)
			return
		}
		SetClientID(r.Context(), c.ID)
		writeJSON(w, http.StatusOK, s.registrationResponse(c, "", tok))
	case http.MethodPut:
		c, err := reg.Clients.Registered(r.Context(), id, tok)
		if err != nil {
			s.writeRegistrationError(w, r, err)
			return
		}
		m, err := readUpdate(r, c)
		if err != nil {
			s.writeRegistrationError(w, r, err)
			return
		}
		c, err = reg.Clients.UpdateRegistered(r.Context(), id, tok, m, by)
		if err != nil {
			s.writeRegistrationError(w, r, err)
			return
		}
		SetClientID(r.Context(), c.ID)
		writeJSON(w, http.StatusOK, s.registrationResponse(c, "", tok))
	case http.MethodDelete:
		if err := reg.Clients.DeleteRegistered(r.Context(), id, tok, by); err != nil {
			s.writeRegistrationError(w, r, err)
			return
		}
		// §2.3: 204 No Content; the client_id and its tokens are gone.
		w.Header()["Cache-Control"] = hdrNoStore
		w.WriteHeader(http.StatusNoContent)
	}
}

// readMetadata decodes a registration request: a JSON object (§3.1).
// Unknown members are ignored (§2). It returns the body too.
func readMetadata(r *http.Request) (client.Metadata, []byte, error) {
	var m client.Metadata
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return m, nil, metadataError("the request must be a JSON object (Content-Type: application/json)")
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return m, nil, err // too large: the body limit's error
	}
	if err := json.Unmarshal(body, &m); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return m, nil, metadataError(te.Field + " has the wrong type")
		}
		return m, nil, metadataError("the request must be a JSON object of client metadata")
	}
	return m, body, nil
}

// readUpdate decodes an RFC 7592 §2.2 update request, which must name the
// client, may repeat its secret (which must then be its current one), and
// must not carry the registration access token or the server's own fields.
func readUpdate(r *http.Request, c *oauth.Client) (client.Metadata, error) {
	m, body, err := readMetadata(r)
	if err != nil {
		return m, err
	}
	var extra struct {
		ClientSecret            *string `json:"client_secret"`
		RegistrationAccessToken *string `json:"registration_access_token"`
		RegistrationClientURI   *string `json:"registration_client_uri"`
		ClientIDIssuedAt        *int64  `json:"client_id_issued_at"`
		ClientSecretExpiresAt   *int64  `json:"client_secret_expires_at"`
	}
	_ = json.Unmarshal(body, &extra) // the same object readMetadata accepted
	switch {
	case m.ClientID != c.ID:
		return m, metadataError("client_id must be the client's own")
	case extra.RegistrationAccessToken != nil || extra.RegistrationClientURI != nil ||
		extra.ClientIDIssuedAt != nil || extra.ClientSecretExpiresAt != nil:
		return m, oauth.InvalidRequest("registration_access_token, registration_client_uri, client_id_issued_at and client_secret_expires_at must not be sent (RFC 7592 §2.2)")
	case extra.ClientSecret != nil && !client.SecretMatches(c, *extra.ClientSecret):
		return m, metadataError("client_secret does not match the current secret")
	}
	return m, nil
}

func metadataError(desc string) *oauth.Error {
	return &oauth.Error{Code: codeInvalidClientMetadata, Description: desc, Status: http.StatusBadRequest}
}

// bearerHeader reads an RFC 6750 §2.1 bearer token from the Authorization
// header only.
func bearerHeader(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", &oauth.Error{Status: http.StatusUnauthorized}
	}
	const prefix = "bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) || strings.TrimSpace(h[len(prefix):]) == "" {
		return "", oauth.InvalidToken("the Authorization header must be a Bearer token")
	}
	return strings.TrimSpace(h[len(prefix):]), nil
}

// writeRegistrationError maps registration errors: invalid metadata to RFC
// 7591 §3.2.2, a bad token to RFC 6750 §3.1, the rest through writeError.
func (s *Server) writeRegistrationError(w http.ResponseWriter, r *http.Request, err error) {
	var im *client.InvalidMetadata
	switch {
	case errors.As(err, &im):
		code := codeInvalidClientMetadata
		if im.Field == "redirect_uris" {
			code = codeInvalidRedirectURI
		}
		writeJSON(w, http.StatusBadRequest, errorBody{Error: code, Description: im.Reason})
	case errors.Is(err, client.ErrRegistrationToken):
		s.writeBearerError(w, r, oauth.InvalidToken("the token is not valid for this registration"))
	default:
		writeError(w, r, s.log, err)
	}
}
