package logoutnotify

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/authd/authd/internal/keys"
	"github.com/authd/authd/internal/outbound"
	"github.com/authd/authd/internal/store"
)

// EventBackchannelLogout is the one member of a logout token's events claim
// (Back-Channel Logout §2.4).
const EventBackchannelLogout = "http://schemas.openid.net/event/backchannel-logout"

// TokenType is the JOSE typ of a logout token (Back-Channel §2.4: explicit
// typing, so a logout token is never taken for an id_token).
const TokenType = "logout+jwt"

// maxConcurrent bounds the deliveries of one pass: a slow relying party
// holds one slot, not the pass.
const maxConcurrent = 8

// logoutClaims are a logout token's claims (Back-Channel §2.4). There is no
// nonce: §2.4 forbids it, so a logout token cannot pass for an id_token.
type logoutClaims struct {
	Iss    string                     `json:"iss"`
	Aud    string                     `json:"aud"`
	Iat    int64                      `json:"iat"`
	Exp    int64                      `json:"exp"`
	Jti    string                     `json:"jti"`
	Sub    string                     `json:"sub,omitempty"`
	Sid    string                     `json:"sid,omitempty"`
	Events map[string]json.RawMessage `json:"events"`
}

// logoutToken signs the logout token of notification x for its client at
// now, with the id_token key (Back-Channel §2.4: signed as an id_token is).
// It carries both sub and sid: §2.4 allows both, and a client that
// registered backchannel_logout_session_required gets the sid it needs.
func (n *Notifier) logoutToken(x *store.LogoutNotification, now time.Time) (string, error) {
	c := logoutClaims{
		Iss: n.opts.Issuer, Aud: x.ClientID,
		Iat: now.Unix(), Exp: now.Add(n.opts.TokenTTL).Unix(),
		Jti: n.randomID(), Sub: x.Subject, Sid: x.SID,
		Events: map[string]json.RawMessage{EventBackchannelLogout: json.RawMessage(`{}`)},
	}
	payload, err := json.Marshal(&c)
	if err != nil {
		return "", err
	}
	return n.signer.Sign(keys.PurposeIDToken, TokenType, payload)
}

// Delay is how long to wait after the attempts-th failed attempt: BaseDelay
// doubled for each attempt after the first, capped at MaxDelay.
func (n *Notifier) Delay(attempts int) time.Duration {
	d := n.opts.BaseDelay
	for i := 1; i < attempts && d < n.opts.MaxDelay; i++ {
		d *= 2
	}
	return min(d, n.opts.MaxDelay)
}

// outcome of one attempt.
type outcome int

const (
	delivered outcome = iota // or nothing left to deliver to: delete
	retry                    // may work later
	giveUp                   // will not work: delete
)

// DeliverDue claims the notifications due now, a batch at a time, delivers
// them and records the outcome, until none is due. It returns how many were
// delivered. Errors are store failures; what a relying party answers is not
// an error but an outcome.
func (n *Notifier) DeliverDue(ctx context.Context) (int, error) {
	total := 0
	for {
		now := n.opts.Now()
		batch, err := n.outbox.ClaimLogouts(ctx, now, n.opts.Lease, n.opts.Batch)
		if err != nil {
			return total, err
		}
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			errs []error
			sem  = make(chan struct{}, maxConcurrent)
		)
		for _, x := range batch {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				ok, err := n.deliverOne(ctx, x)
				mu.Lock()
				defer mu.Unlock()
				if ok {
					total++
				}
				if err != nil {
					errs = append(errs, err)
				}
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return total, err
		}
		if len(batch) < n.opts.Batch {
			return total, nil
		}
	}
}

// deliverOne makes one attempt at x and records its outcome.
func (n *Notifier) deliverOne(ctx context.Context, x *store.LogoutNotification) (bool, error) {
	o, why := n.attempt(ctx, x)
	now := n.opts.Now()
	attrs := []slog.Attr{slog.String("client_id", x.ClientID), slog.Int("attempt", x.Attempts), slog.String("reason", why)}
	switch o {
	case delivered:
		if why == "" {
			n.count[resultDelivered].Inc()
		} else {
			n.count[resultDropped].Inc()
		}
		return why == "", n.outbox.AckLogout(ctx, x.ID)
	case retry:
		if ctx.Err() != nil {
			// Stopping mid-attempt: hand the row back now, so that the next
			// process or another replica need not wait out the lease. The
			// write gets a moment of its own past the cancellation.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			defer cancel()
			if err := n.outbox.RetryLogout(rctx, x, now); err != nil && !errors.Is(err, store.ErrNotFound) {
				return false, err
			}
			return false, ctx.Err()
		}
		next := now.Add(n.Delay(x.Attempts))
		if next.Before(x.ExpiresAt) {
			n.count[resultRetried].Inc()
			n.opts.Logger.LogAttrs(ctx, slog.LevelInfo, "logoutnotify: delivery failed; will retry",
				append(attrs, slog.Time("next", next))...)
			err := n.outbox.RetryLogout(ctx, x, next)
			if errors.Is(err, store.ErrNotFound) {
				err = nil // the lease ran out and another worker has it
			}
			return false, err
		}
	}
	n.count[resultGivenUp].Inc()
	n.opts.Logger.LogAttrs(ctx, slog.LevelWarn, "logoutnotify: delivery given up", attrs...)
	return false, n.outbox.AckLogout(ctx, x.ID)
}

// attempt delivers x once (Back-Channel §2.5: a POST of logout_token as a
// form). why is "" on delivery, else the reason, for the log.
func (n *Notifier) attempt(ctx context.Context, x *store.LogoutNotification) (outcome, string) {
	c, err := n.clients.Client(ctx, x.ClientID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return delivered, "the client was deleted"
	case err != nil:
		return retry, "client lookup: " + err.Error()
	case c.Metadata.BackchannelLogoutURI == "":
		return delivered, "the client no longer has a backchannel_logout_uri"
	}
	tok, err := n.logoutToken(x, n.opts.Now())
	if err != nil {
		return retry, "signing: " + err.Error()
	}
	resp, err := n.poster.Post(ctx, c.Metadata.BackchannelLogoutURI, url.Values{"logout_token": {tok}})
	switch {
	case errors.Is(err, outbound.ErrRefused):
		return giveUp, err.Error()
	case err != nil:
		return retry, err.Error()
	}
	// §2.8: 200 (authd takes any 2xx, 204 included) is success. A 400 is
	// the RP refusing this token and a retry would be refused alike, as
	// would any 4xx but 408 and 429; 5xx, 408 and 429 may pass later.
	switch s := resp.Status; {
	case s >= 200 && s < 300:
		return delivered, ""
	case s == http.StatusRequestTimeout, s == http.StatusTooManyRequests, s >= 500:
		return retry, "status " + strconv.Itoa(s)
	default:
		return giveUp, "status " + strconv.Itoa(s)
	}
}

// Run delivers due notifications every Poll, and at once after a session
// ends on this replica, until ctx ends. Store failures are logged and the
// next pass tries again.
func (n *Notifier) Run(ctx context.Context) {
	t := time.NewTicker(n.opts.Poll)
	defer t.Stop()
	for {
		if _, err := n.DeliverDue(ctx); err != nil && ctx.Err() == nil {
			n.logStoreFailure(ctx, "delivery pass failed", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-n.kick:
		}
	}
}
