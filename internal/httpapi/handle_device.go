package httpapi

import (
	"context"
	"net/http"

	"github.com/authd/authd/internal/token"
)

// PathDeviceAuthorization is the device authorization endpoint (RFC 8628
// §3.1), relative to the issuer.
const PathDeviceAuthorization = "/oauth2/device_authorization"

// DeviceAuthorizer starts device authorizations (*token.Service).
type DeviceAuthorizer interface {
	// AuthorizeDevice authenticates the request's client and stores a
	// pending device authorization. Errors are *oauth.Error or failures
	// of the store.
	AuthorizeDevice(ctx context.Context, req *token.DeviceRequest) (*token.DeviceResponse, error)
}

// handleDeviceAuthorization is RFC 8628 §3.1 and §3.2. The client
// authenticates as at the token endpoint (§3.1: "... MUST authenticate with
// the authorization server as described in Section 3.2.1 of [RFC6749]" for
// confidential clients), so the same credentials parsing serves both.
func (s *Server) handleDeviceAuthorization(w http.ResponseWriter, r *http.Request) {
	f, cr, err := s.formRequest(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	resp, err := s.opts.Device.AuthorizeDevice(r.Context(), &token.DeviceRequest{
		Credentials: cr,
		Scope:       f["scope"],
		Resources:   f.resources(),
		ClientIP:    s.opts.ClientIPs.Of(r),
	})
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	SetClientID(r.Context(), cr.ClientID)
	// RFC 8628 §3.2: 200 with application/json (writeJSON also sends
	// no-store: the codes are credentials).
	writeJSON(w, http.StatusOK, resp)
}
