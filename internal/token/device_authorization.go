package token

import (
	"context"
	"errors"
	"net/url"
	"time"

	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/secevent"
	"github.com/authd/authd/internal/store"
)

// DeviceRequest is a parsed device authorization request (RFC 8628 §3.1).
type DeviceRequest struct {
	Credentials Credentials
	Scope       string
	// Resources are the request's resource parameters (RFC 8707 §2).
	Resources []string
	// ClientIP is the caller's address, for limits and security events.
	ClientIP string
}

// DeviceResponse is the device authorization response (RFC 8628 §3.2).
type DeviceResponse struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int64  `json:"expires_in"`
	Interval                int64  `json:"interval"`
}

// DeviceSlowDown is how much a device's polling interval grows each time it
// polls too soon (RFC 8628 §3.5).
const DeviceSlowDown = 5 * time.Second

// userCodeAttempts bounds the retries when a fresh user code collides with
// a live one (20^8 codes: a collision is already rare).
const userCodeAttempts = 4

// AuthorizeDevice runs the device authorization endpoint (RFC 8628 §3.1,
// §3.2): authenticate the client as the token endpoint does, check it may
// use the device grant, and store a pending request under a fresh device
// code and user code. Errors are *oauth.Error (RFC 8628 §3.2 uses RFC 6749
// §5.2's) or store failures.
func (s *Service) AuthorizeDevice(ctx context.Context, req *DeviceRequest) (*DeviceResponse, error) {
	if s.devices == nil || s.userCodes == nil {
		return nil, oauth.UnsupportedGrantType("the device authorization grant is not available")
	}
	c, err := s.AuthenticateClient(ctx, req.Credentials)
	if err != nil {
		s.events.Emit(secevent.Event{Type: secevent.ClientAuthFailed, ClientID: boundedID(req.Credentials.ClientID), IP: req.ClientIP})
		return nil, err
	}
	if !c.AllowsGrant(oauth.GrantDeviceCode) {
		return nil, oauth.UnauthorizedClient("the client is not allowed to use grant_type " + oauth.GrantDeviceCode)
	}
	if s.limits != nil {
		if err := s.limits.AllowClient(ctx, c, req.ClientIP); err != nil {
			return nil, err
		}
	}
	scopes, err := resolveScope(req.Scope, c.Scopes)
	if err != nil {
		return nil, err
	}
	resources, err := s.CheckResources(ctx, c, req.Resources)
	if err != nil {
		return nil, err
	}
	now := s.opts.Now()
	deviceCode := s.randomToken()
	a := &store.DeviceAuthorization{
		DeviceCodeHash: Hash(deviceCode),
		ClientID:       c.ID,
		Scope:          oauth.JoinScope(scopes),
		Resources:      resources,
		Interval:       s.opts.DeviceInterval.Truncate(time.Second),
		ExpiresAt:      now.Add(s.opts.DeviceCodeTTL),
		CreatedAt:      now,
	}
	var userCode string
	for range userCodeAttempts {
		userCode, a.UserCodeHash = s.userCodes.New()
		if err = s.devices.CreateDeviceAuthorization(ctx, a); !errors.Is(err, store.ErrConflict) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	return &DeviceResponse{
		DeviceCode:      deviceCode,
		UserCode:        userCode,
		VerificationURI: s.opts.VerificationURI,
		// RFC 8628 §3.3.1: the user_code in the URI saves typing it; the
		// page still asks the user to confirm (§5.4).
		VerificationURIComplete: s.opts.VerificationURI + "?" + url.Values{"user_code": {userCode}}.Encode(),
		ExpiresIn:               int64(s.opts.DeviceCodeTTL / time.Second),
		Interval:                int64(a.Interval / time.Second),
	}, nil
}
