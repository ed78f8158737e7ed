package issuer

import (
	"context"
	"crypto/rand"
	"net/url"
	"strings"
	"time"

	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/secevent"
	"github.com/authd/authd/internal/store"
)

// Input is a trusted issuer as an administrator writes it (the admin API's
// body).
type Input struct {
	Issuer         string `json:"issuer"`
	JWKSURI        string `json:"jwks_uri,omitempty"`
	Audience       string `json:"audience,omitempty"`
	SubjectMapping string `json:"subject_mapping"`
}

// Invalid is input that cannot be stored; Reason is fit to show the caller.
type Invalid struct {
	Field  string
	Reason string
}

func (e *Invalid) Error() string { return "trusted issuer: invalid " + e.Field + ": " + e.Reason }

func invalid(field, reason string) error { return &Invalid{Field: field, Reason: reason} }

// Store is the slice of the store the service uses (store.TrustedIssuers).
type Store interface {
	CreateTrustedIssuer(ctx context.Context, ti *store.TrustedIssuer) error
	TrustedIssuer(ctx context.Context, id string) (*store.TrustedIssuer, error)
	ListTrustedIssuers(ctx context.Context) ([]*store.TrustedIssuer, error)
	DeleteTrustedIssuer(ctx context.Context, id string) error
}

// Caller is who asked for a change, for the audit trail.
type Caller struct {
	Credential string
	IP         string
}

// Options configure the Service.
type Options struct {
	// Audience is the default audience of a trusted issuer's tokens:
	// authd's issuer identifier. Required.
	Audience string
	// Discover, if set, is asked at creation whether an issuer registered
	// without a jwks_uri publishes its keys through OpenID Connect
	// discovery (outbound.Fetcher.Discover), so a typo shows at once rather
	// than at the first exchange.
	Discover func(ctx context.Context, issuer string) error
	// Changed runs after every change with the issuer before and after
	// (either nil), to drop what caches hold about it.
	Changed func(ctx context.Context, before, after *store.TrustedIssuer)
	Events  secevent.Emitter
	Now     func() time.Time
	Random  func([]byte)
}

// Service creates, lists and deletes trusted issuers.
type Service struct {
	st   Store
	opts Options
}

// New returns a Service over st.
func New(st Store, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Random == nil {
		opts.Random = func(b []byte) { _, _ = rand.Read(b) }
	}
	if opts.Events == nil {
		opts.Events = secevent.Discard{}
	}
	if opts.Changed == nil {
		opts.Changed = func(context.Context, *store.TrustedIssuer, *store.TrustedIssuer) {}
	}
	return &Service{st: st, opts: opts}
}

func (s *Service) emit(typ string, ti *store.TrustedIssuer, by Caller) {
	s.opts.Events.Emit(secevent.Event{Type: typ, IP: by.IP,
		Detail: map[string]string{"by": by.Credential, "id": ti.ID, "issuer": ti.Issuer}})
}

// Create stores a new trusted issuer with a random id. Errors: *Invalid, an
// error matching store.ErrConflict (the issuer is registered), or the
// store's.
func (s *Service) Create(ctx context.Context, in Input, by Caller) (*store.TrustedIssuer, error) {
	ti, err := s.validate(in)
	if err != nil {
		return nil, err
	}
	if ti.JWKSURI == "" && s.opts.Discover != nil {
		if err := s.opts.Discover(ctx, ti.Issuer); err != nil {
			return nil, invalid("jwks_uri", "no jwks_uri given, and the issuer's OpenID Connect discovery failed: "+bounded(err.Error()))
		}
	}
	ti.ID = oauth.RandomID(s.opts.Random, 12)
	ti.CreatedAt = s.opts.Now().UTC()
	if err := s.st.CreateTrustedIssuer(ctx, ti); err != nil {
		return nil, err
	}
	s.opts.Changed(ctx, nil, ti) // a negative cache entry for the issuer
	s.emit(secevent.AdminTrustedIssuerCreated, ti, by)
	return ti, nil
}

// Delete removes a trusted issuer: its tokens are refused from then on.
// Errors: store.ErrNotFound.
func (s *Service) Delete(ctx context.Context, id string, by Caller) error {
	cur, err := s.st.TrustedIssuer(ctx, id)
	if err != nil {
		return err
	}
	if err := s.st.DeleteTrustedIssuer(ctx, id); err != nil {
		return err
	}
	s.opts.Changed(ctx, cur, nil)
	s.emit(secevent.AdminTrustedIssuerDeleted, cur, by)
	return nil
}

// Get returns a trusted issuer. Errors: store.ErrNotFound.
func (s *Service) Get(ctx context.Context, id string) (*store.TrustedIssuer, error) {
	return s.st.TrustedIssuer(ctx, id)
}

// List returns every trusted issuer ordered by issuer.
func (s *Service) List(ctx context.Context) ([]*store.TrustedIssuer, error) {
	return s.st.ListTrustedIssuers(ctx)
}

// maxURILength bounds issuer, jwks_uri and audience.
const maxURILength = 2000

func (s *Service) validate(in Input) (*store.TrustedIssuer, error) {
	// OpenID Connect Core §2 and RFC 8414 §2: an issuer identifier is an
	// https URL with no query or fragment, compared as a string (RFC 7519
	// §4.1.1), so it is stored exactly as given.
	if why := httpsURLProblem(in.Issuer); why != "" {
		return nil, invalid("issuer", "issuer "+why)
	}
	if in.JWKSURI != "" {
		if why := httpsURLProblem(in.JWKSURI); why != "" {
			return nil, invalid("jwks_uri", "jwks_uri "+why)
		}
	}
	aud := in.Audience
	if aud == "" {
		aud = s.opts.Audience
	}
	// RFC 7519 §4.1.3: aud values are StringOrURI; one without spaces or
	// control characters, since it is compared with what tokens carry.
	if len(aud) > maxURILength || !printable(aud) || strings.Contains(aud, " ") {
		return nil, invalid("audience", "audience must be at most 2000 printable characters without spaces")
	}
	switch in.SubjectMapping {
	case oauth.SubjectMappingUserID, oauth.SubjectMappingUsername, oauth.SubjectMappingEmail, oauth.SubjectMappingNone:
	default:
		return nil, invalid("subject_mapping", "subject_mapping must be user_id, username, email or none")
	}
	return &store.TrustedIssuer{Issuer: in.Issuer, JWKSURI: in.JWKSURI, Audience: aud, SubjectMapping: in.SubjectMapping}, nil
}

// httpsURLProblem says what keeps raw from being an https URL with a host
// and no query, fragment or userinfo; "" when nothing does.
func httpsURLProblem(raw string) string {
	if raw == "" {
		return "is required"
	}
	if len(raw) > maxURILength || !printable(raw) || strings.Contains(raw, " ") {
		return "must be at most 2000 printable characters without spaces"
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs() || u.Scheme != "https" || u.Host == "":
		return "must be an absolute https URL"
	case u.User != nil:
		return "must not contain userinfo"
	case u.RawQuery != "" || u.ForceQuery || strings.Contains(raw, "#"):
		return "must not contain a query or fragment"
	}
	return ""
}

func printable(s string) bool {
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

// bounded keeps an error from elsewhere short enough to show.
func bounded(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}
