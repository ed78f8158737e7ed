package logoutnotify

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/outbound"
	"github.com/authd/authd/internal/store"
)

// Outbox is the part of the store the notifier uses (store.Logouts).
type Outbox interface {
	AddSessionClient(ctx context.Context, sc *store.SessionClient) error
	SessionClients(ctx context.Context, subject string, sids []string) ([]*store.SessionClient, error)
	EnqueueLogouts(ctx context.Context, subject string, endedSIDs []string, ns []*store.LogoutNotification) error
	ClaimLogouts(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*store.LogoutNotification, error)
	AckLogout(ctx context.Context, id string) error
	RetryLogout(ctx context.Context, n *store.LogoutNotification, next time.Time) error
}

// Clients looks up the clients to notify.
type Clients interface {
	// Client returns the client, or an error matching store.ErrNotFound.
	Client(ctx context.Context, id string) (*oauth.Client, error)
}

// Signer signs a JWS with the current key of a purpose (*keys.Manager).
type Signer interface {
	Sign(purpose, typ string, payload []byte) (string, error)
}

// Poster delivers a form under the SSRF rules (*outbound.Fetcher).
type Poster interface {
	Post(ctx context.Context, rawURL string, form url.Values) (*outbound.Response, error)
}

// Options configure a Notifier. Issuer is required; zero values of the
// others take the defaults.
type Options struct {
	// Issuer is the iss of logout tokens and of front-channel URLs.
	Issuer string
	// TokenTTL is how long a logout token is good for (its exp); default 2
	// minutes. Back-Channel §2.4 asks for a short one; each attempt signs a
	// new token, so a retry is never stale.
	TokenTTL time.Duration
	// MaxAge is how long delivery is retried before it is given up;
	// default 24 hours.
	MaxAge time.Duration
	// BaseDelay is the wait after the first failed attempt, doubled after
	// each further one up to MaxDelay; defaults 5 seconds and 10 minutes.
	BaseDelay, MaxDelay time.Duration
	// Lease is how long a claimed notification is held by one worker before
	// another may take it; default 20 seconds: longer than one attempt may
	// take (the outbound fetcher's 5 s timeout, a store write), and short,
	// since it is also how long a notification waits when the process that
	// claimed it died (or was stopped between the claim and the attempt).
	Lease time.Duration
	// Poll is how often Run looks for due notifications; default 2 seconds.
	Poll time.Duration
	// Batch is how many notifications one pass claims; default 32.
	Batch int
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Random fills b with random bytes (notification ids, jti); default crypto/rand.
	Random func(b []byte)
	// Logger receives deliveries given up and store failures; default
	// slog.Default(). Logout tokens are never logged.
	Logger *slog.Logger
	// Registerer receives authd_logout_notifications_total; nil registers
	// nothing.
	Registerer prometheus.Registerer
}

// Notifier records which clients take part in which session, enqueues
// logout notifications when sessions end, and delivers them. It is safe for
// concurrent use.
type Notifier struct {
	outbox  Outbox
	clients Clients
	signer  Signer
	poster  Poster
	opts    Options
	kick    chan struct{}
	count   counters
}

// New returns a Notifier.
func New(outbox Outbox, clients Clients, signer Signer, poster Poster, opts Options) (*Notifier, error) {
	if opts.Issuer == "" {
		return nil, errors.New("logoutnotify: Issuer is required")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&opts.TokenTTL, 2*time.Minute)
	def(&opts.MaxAge, 24*time.Hour)
	def(&opts.BaseDelay, 5*time.Second)
	def(&opts.MaxDelay, 10*time.Minute)
	def(&opts.Lease, 20*time.Second)
	def(&opts.Poll, 2*time.Second)
	if opts.Batch <= 0 {
		opts.Batch = 32
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Random == nil {
		opts.Random = func(b []byte) { _, _ = rand.Read(b) }
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	count, err := newCounters(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("logoutnotify: metrics: %w", err)
	}
	return &Notifier{outbox: outbox, clients: clients, signer: signer, poster: poster, opts: opts,
		kick: make(chan struct{}, 1), count: count}, nil
}

// SessionID is the sid of the session whose cookie has SHA-256 sessionHash
// (Back-Channel Logout §2.1): stable for the session, and since it is a hash
// of a hash of 256 random bits under a label of its own, it reveals nothing
// of the cookie and matches nothing else authd stores.
func SessionID(sessionHash []byte) string {
	h := sha256.New()
	h.Write([]byte("authd sid\x00"))
	h.Write(sessionHash)
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:16])
}

// Joined records that client was issued a code in the session with
// sessionHash, which ends at expires, and returns the session's sid for the
// id_token.
func (n *Notifier) Joined(ctx context.Context, sessionHash []byte, subject, clientID string, expires time.Time) (string, error) {
	sid := SessionID(sessionHash)
	err := n.outbox.AddSessionClient(ctx, &store.SessionClient{SID: sid, ClientID: clientID, Subject: subject, ExpiresAt: expires})
	if err != nil {
		return "", err
	}
	return sid, nil
}

// FrontChannel is one iframe of the signed-out page (Front-Channel §2, §3).
type FrontChannel struct {
	URL    string // the frontchannel_logout_uri, with iss and sid when the client asked for them
	Origin string // its scheme://host[:port], for the page's frame-src
}

// SessionEnding enqueues back-channel notifications to the clients of the
// session with sessionHash (of subject), forgetting them, and returns the
// front-channel URLs to render. Call it before the session is deleted: if
// it fails, do not end the session, or its clients would never be told.
func (n *Notifier) SessionEnding(ctx context.Context, subject string, sessionHash []byte) ([]FrontChannel, error) {
	sid := SessionID(sessionHash)
	scs, err := n.outbox.SessionClients(ctx, subject, []string{sid})
	if err != nil {
		return nil, err
	}
	front, err := n.enqueue(ctx, subject, []string{sid}, scs)
	if err != nil {
		return nil, err
	}
	return front, nil
}

// UserSessionsEnding enqueues back-channel notifications to the clients of
// every session of subject but the one with keepSession (a session's hash;
// nil keeps none). Call it before the change that ends them (account
// password change or reset, disabling, deletion, an administrator ending
// the sessions): a failure then stops the change, and a change that fails
// after it costs at most a notification too many, which a relying party
// answers by asking the user to sign in again.
func (n *Notifier) UserSessionsEnding(ctx context.Context, subject string, keepSession []byte) error {
	scs, err := n.outbox.SessionClients(ctx, subject, nil)
	if err != nil {
		return err
	}
	keep := ""
	if keepSession != nil {
		keep = SessionID(keepSession)
	}
	var (
		ended  []string
		notify = scs[:0:0]
	)
	for _, sc := range scs {
		if sc.SID == keep {
			continue
		}
		if len(ended) == 0 || ended[len(ended)-1] != sc.SID {
			ended = append(ended, sc.SID) // scs is ordered by SID
		}
		notify = append(notify, sc)
	}
	_, err = n.enqueue(ctx, subject, ended, notify)
	return err
}

// enqueue writes one notification per client of scs that registered a
// backchannel_logout_uri, and forgets the sessions ended, in one step.
func (n *Notifier) enqueue(ctx context.Context, subject string, ended []string, scs []*store.SessionClient) ([]FrontChannel, error) {
	now := n.opts.Now()
	var (
		ns    []*store.LogoutNotification
		front []FrontChannel
	)
	for _, sc := range scs {
		c, err := n.clients.Client(ctx, sc.ClientID)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted since: nobody to tell
		}
		if err != nil {
			return nil, err
		}
		if c.Metadata.BackchannelLogoutURI != "" {
			ns = append(ns, &store.LogoutNotification{
				ID: n.randomID(), ClientID: c.ID, Subject: subject, SID: sc.SID,
				CreatedAt: now, ExpiresAt: now.Add(n.opts.MaxAge), NextAttemptAt: now,
			})
		}
		if fc, ok := n.frontChannel(c, sc.SID); ok {
			front = append(front, fc)
		}
	}
	if len(scs) == 0 {
		return front, nil // a session no client took part in: nothing to write
	}
	if err := n.outbox.EnqueueLogouts(ctx, subject, ended, ns); err != nil {
		return nil, err
	}
	if len(ns) > 0 {
		select {
		case n.kick <- struct{}{}:
		default:
		}
	}
	return front, nil
}

// frontChannel is the iframe URL of client c for session sid: Front-Channel
// §3, iss and sid as query parameters when the client registered
// frontchannel_logout_session_required (added to whatever query it has).
func (n *Notifier) frontChannel(c *oauth.Client, sid string) (FrontChannel, bool) {
	raw := c.Metadata.FrontchannelLogoutURI
	if raw == "" {
		return FrontChannel{}, false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return FrontChannel{}, false // registration refuses these
	}
	if c.Metadata.FrontchannelLogoutSessionRequired {
		q := u.Query()
		q.Set("iss", n.opts.Issuer)
		q.Set("sid", sid)
		u.RawQuery = q.Encode()
	}
	return FrontChannel{URL: u.String(), Origin: u.Scheme + "://" + u.Host}, true
}

func (n *Notifier) randomID() string {
	b := make([]byte, 16)
	n.opts.Random(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (n *Notifier) logStoreFailure(ctx context.Context, op string, err error) {
	n.opts.Logger.LogAttrs(ctx, slog.LevelWarn, "logoutnotify: "+op, slog.String("err", fmt.Sprint(err)))
}
