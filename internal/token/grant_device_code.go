package token

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/store"
)

// deviceCodeGrant is RFC 8628 §3.4 and §3.5: the device polls with its
// device_code until the user decided. Each poll is one atomic step in the
// store, so of concurrent polls after approval exactly one gets tokens.
func (s *Service) deviceCodeGrant(ctx context.Context, c *oauth.Client, req *Request) (*grant, error) {
	if req.DeviceCode == "" {
		return nil, oauth.InvalidRequest("device_code is required")
	}
	// A guessed or mangled code costs no store lookup (see randomToken).
	if !s.wellFormed(req.DeviceCode) {
		return nil, oauth.InvalidGrant("the device code is invalid")
	}
	now := s.opts.Now()
	a, err := s.devices.PollDeviceAuthorization(ctx, Hash(req.DeviceCode), c.ID, now, DeviceSlowDown)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Unknown, another client's (RFC 8628 §3.4: the client_id must be
		// the one it was issued to), or already redeemed.
		return nil, oauth.InvalidGrant("the device code is invalid, was issued to another client, or was used already")
	case err != nil:
		return nil, err
	}
	if !a.ExpiresAt.After(now) {
		return nil, oauth.ExpiredToken("the device code has expired; start over")
	}
	switch a.Status {
	case store.DevicePending:
		if a.SlowDown {
			// §3.5: the interval grew by 5 s for this and every later poll.
			return nil, oauth.SlowDown("polling too fast: wait at least " +
				strconv.FormatInt(int64(a.Interval/time.Second), 10) + " seconds between requests")
		}
		return nil, oauth.AuthorizationPending("the user has not yet approved the device")
	case store.DeviceDenied:
		return nil, oauth.DeviceAccessDenied("the user denied the device")
	case store.DeviceRedeemed:
	default:
		return nil, errors.New("token: device authorization in unknown state " + quote(a.Status))
	}
	// The approval is spent from here on, whatever goes wrong below.
	user, err := s.activeUser(ctx, a.Subject)
	if err != nil {
		return nil, err
	}
	if user.Generation != a.UserGeneration {
		return nil, oauth.InvalidGrant("the device was approved before the user's password changed or the account was disabled")
	}
	target, err := s.target(ctx, c, req.Resources, a.Resources)
	if err != nil {
		return nil, err
	}
	scopes := oauth.ParseScope(a.Scope)
	return &grant{
		client:      c,
		subject:     a.Subject,
		scopes:      scopes,
		familyScope: scopes,
		grantID:     s.randomID(),
		authTime:    a.AuthTime,
		user:        user,
		target:      target,
		resources:   a.Resources,
	}, nil
}
