package httpapi

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/authd/authd/internal/mtls"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/token"
)

// formRequest parses a form body and the client credentials it carries.
func (s *Server) formRequest(r *http.Request) (form, token.Credentials, error) {
	f, err := parseForm(r)
	if err != nil {
		return nil, token.Credentials{}, err
	}
	cr, err := clientCredentials(r, f)
	if err == nil {
		cr.Cert = s.clientCert(r)
	}
	return f, cr, err
}

// clientCert is the request's client certificate (RFC 8705), from the TLS
// connection or a trusted proxy's header; nil without a usable one. A
// malformed one is no certificate: a client that needs one is refused.
func (s *Server) clientCert(r *http.Request) *mtls.Certificate {
	if s.opts.ClientCerts == nil {
		return nil
	}
	c, err := s.opts.ClientCerts.Certificate(r)
	if err != nil {
		if !errors.Is(err, mtls.ErrNoCertificate) {
			s.log.LogAttrs(r.Context(), slog.LevelDebug, "client certificate unusable", slog.String("error", err.Error()))
		}
		return nil
	}
	return c
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	origin := s.crossOrigin(w, r)
	f, cr, err := s.formRequest(r)
	if err != nil {
		s.shareFailure(w, r, origin)
		writeError(w, r, s.log, err)
		return
	}
	// RFC 9449 §5: a valid proof binds the tokens to its key.
	proof, err := s.verifyDPoP(w, r, PathToken, "", "")
	var jkt, dpopAlg string
	if proof != nil {
		jkt, dpopAlg = proof.JKT, proof.Algorithm
	}
	if err != nil {
		s.shareFailure(w, r, origin)
		writeError(w, r, s.log, err)
		return
	}
	// The client authenticates here, not in Exchange (which takes it as
	// Authenticated: an assertion is single-use), so that the per-address
	// limit knows the request is a client's (limits.go) and a cross-origin
	// request is refused for an origin its client does not allow before the
	// grant spends a code or rotates a refresh token (see cors.go).
	var client *oauth.Client
	c, err := s.tokens.AuthenticateClient(r.Context(), cr)
	switch {
	case err == nil:
		SetClientID(r.Context(), c.ID)
		if !c.Public() {
			// Exchange charges the per-client limit itself.
			markAuthenticated(r.Context())
		}
		if err := allowClientOrigin(w, c, origin); err != nil {
			writeError(w, r, s.log, err)
			return
		}
		client = c
	default:
		if _, ok := oauth.As(err); !ok {
			writeError(w, r, s.log, err)
			return
		}
		// invalid_client: Exchange fails the same way (after checking
		// grant_type, whose error comes first) and records it.
	}
	req := &token.Request{
		GrantType:    f["grant_type"],
		Credentials:  cr,
		Scope:        f["scope"],
		Code:         f["code"],
		RedirectURI:  f["redirect_uri"],
		CodeVerifier: f["code_verifier"],
		RefreshToken: f["refresh_token"],
		Username:     f["username"],
		Password:     f["password"],
		DeviceCode:   f["device_code"],
		Resources:    f.resources(),
		// RFC 8693 §2.1 and RFC 7523 §2.1.
		SubjectToken:       f["subject_token"],
		SubjectTokenType:   f["subject_token_type"],
		ActorToken:         f["actor_token"],
		ActorTokenType:     f["actor_token_type"],
		RequestedTokenType: f["requested_token_type"],
		Audiences:          f.audiences(),
		Assertion:          f["assertion"],
		ClientIP:           s.opts.ClientIPs.Of(r),
		// Authenticated once here already: an assertion is single-use.
		Authenticated:  client,
		CertThumbprint: certThumbprint(cr.Cert),
		DPoPJKT:        jkt,
		DPoPAlg:        dpopAlg,
	}
	resp, err := s.tokens.Exchange(r.Context(), req)
	if err != nil {
		if origin != "" && client == nil {
			s.shareFailure(w, r, origin)
		}
		writeError(w, r, s.log, err)
		return
	}
	// Only an authenticated client gets tokens, so the id is its own.
	SetClientID(r.Context(), cr.ClientID)
	writeJSON(w, http.StatusOK, resp)
}

func certThumbprint(c *mtls.Certificate) string {
	if c == nil {
		return ""
	}
	return c.Thumbprint()
}
