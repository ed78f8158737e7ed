package resource

import (
	"context"
	"crypto/rand"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/secevent"
	"github.com/authd/authd/internal/store"
)

// Input is a resource as an administrator writes it (the admin API's body).
type Input struct {
	Resource             string   `json:"resource"`
	Name                 string   `json:"name,omitempty"`
	Scope                string   `json:"scope,omitempty"`
	AccessTokenFormat    string   `json:"access_token_format,omitempty"`
	AccessTokenTTL       int64    `json:"access_token_ttl,omitempty"` // seconds; 0: the client's
	IntrospectingClients []string `json:"introspecting_clients,omitempty"`
}

// InputOf is the Input that describes r.
func InputOf(r *store.Resource) Input {
	return Input{
		Resource:             r.Indicator,
		Name:                 r.Name,
		Scope:                oauth.JoinScope(r.Scopes),
		AccessTokenFormat:    r.AccessTokenFormat,
		AccessTokenTTL:       int64(r.AccessTokenTTL / time.Second),
		IntrospectingClients: r.IntrospectingClients,
	}
}

// Invalid is input that cannot be stored; Reason is fit to show the caller.
type Invalid struct {
	Field  string
	Reason string
}

func (e *Invalid) Error() string { return "resource: invalid " + e.Field + ": " + e.Reason }

func invalid(field, reason string) error { return &Invalid{Field: field, Reason: reason} }

// Store is the slice of the store the service uses (store.Resources).
type Store interface {
	CreateResource(ctx context.Context, r *store.Resource) error
	Resource(ctx context.Context, id string) (*store.Resource, error)
	ListResources(ctx context.Context) ([]*store.Resource, error)
	UpdateResource(ctx context.Context, r *store.Resource) error
	DeleteResource(ctx context.Context, id string) error
}

// Caller is who asked for a change, for the audit trail.
type Caller struct {
	Credential string
	IP         string
}

// Options configure the Service.
type Options struct {
	// MaxTokenTTL bounds access_token_ttl (AUTHD_MAX_TOKEN_TTL).
	MaxTokenTTL time.Duration
	// Changed runs after every change with the resource before and after
	// (either nil), to drop what caches hold about both.
	Changed func(ctx context.Context, before, after *store.Resource)
	Events  secevent.Emitter
	Now     func() time.Time
	Random  func([]byte)
}

// Service creates, updates and deletes resources.
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
		opts.Changed = func(context.Context, *store.Resource, *store.Resource) {}
	}
	if opts.MaxTokenTTL == 0 {
		opts.MaxTokenTTL = 24 * time.Hour
	}
	return &Service{st: st, opts: opts}
}

func (s *Service) emit(typ string, r *store.Resource, by Caller) {
	s.opts.Events.Emit(secevent.Event{Type: typ, IP: by.IP,
		Detail: map[string]string{"by": by.Credential, "id": r.ID, "resource": r.Indicator}})
}

// Create stores a new resource with a random id. Errors: *Invalid, an error
// matching store.ErrConflict (the indicator is registered).
func (s *Service) Create(ctx context.Context, in Input, by Caller) (*store.Resource, error) {
	r, err := s.validate(in)
	if err != nil {
		return nil, err
	}
	r.ID = oauth.RandomID(s.opts.Random, 12)
	now := s.opts.Now().UTC()
	r.CreatedAt, r.UpdatedAt = now, now
	if err := s.st.CreateResource(ctx, r); err != nil {
		return nil, err
	}
	s.opts.Changed(ctx, nil, r) // a negative cache entry for the indicator
	s.emit(secevent.AdminResourceCreated, r, by)
	return r, nil
}

// Update replaces the resource's whole description (omitted members take
// their defaults). Errors: *Invalid, store.ErrNotFound, store.ErrConflict.
func (s *Service) Update(ctx context.Context, id string, in Input, by Caller) (*store.Resource, error) {
	cur, err := s.st.Resource(ctx, id)
	if err != nil {
		return nil, err
	}
	r, err := s.validate(in)
	if err != nil {
		return nil, err
	}
	r.ID, r.CreatedAt, r.UpdatedAt = id, cur.CreatedAt, s.opts.Now().UTC()
	if err := s.st.UpdateResource(ctx, r); err != nil {
		return nil, err
	}
	s.opts.Changed(ctx, cur, r)
	s.emit(secevent.AdminResourceUpdated, r, by)
	return r, nil
}

// Delete removes a resource: tokens are no longer issued for it, and its
// introspecting clients lose their restriction. Errors: store.ErrNotFound.
func (s *Service) Delete(ctx context.Context, id string, by Caller) error {
	cur, err := s.st.Resource(ctx, id)
	if err != nil {
		return err
	}
	if err := s.st.DeleteResource(ctx, id); err != nil {
		return err
	}
	s.opts.Changed(ctx, cur, nil)
	s.emit(secevent.AdminResourceDeleted, cur, by)
	return nil
}

// Get returns a resource. Errors: store.ErrNotFound.
func (s *Service) Get(ctx context.Context, id string) (*store.Resource, error) {
	return s.st.Resource(ctx, id)
}

// List returns every resource ordered by indicator.
func (s *Service) List(ctx context.Context) ([]*store.Resource, error) {
	return s.st.ListResources(ctx)
}

// maxIntrospectors bounds introspecting_clients: a resource has a few
// servers, and introspection scans the list.
const maxIntrospectors = 100

func (s *Service) validate(in Input) (*store.Resource, error) {
	// RFC 8707 §2: an absolute URI without a fragment.
	if why := oauth.ResourceIndicatorProblem(in.Resource); why != "" {
		return nil, invalid("resource", "resource "+why)
	}
	if len(in.Name) > 200 || !printable(in.Name) {
		return nil, invalid("name", "name must be at most 200 printable characters")
	}
	r := &store.Resource{Indicator: in.Resource, Name: in.Name, AccessTokenFormat: in.AccessTokenFormat}
	for _, sc := range oauth.ParseScope(in.Scope) {
		if !oauth.ValidScopeToken(sc) {
			return nil, invalid("scope", "scope must be space-separated tokens of printable ASCII without quotes or backslashes")
		}
		if !oauth.HasScope(r.Scopes, sc) {
			r.Scopes = append(r.Scopes, sc)
		}
	}
	switch in.AccessTokenFormat {
	case "", oauth.FormatJWT, oauth.FormatOpaque:
	default:
		return nil, invalid("access_token_format", "access_token_format must be jwt or opaque (or absent: the client's)")
	}
	if in.AccessTokenTTL < 0 || time.Duration(in.AccessTokenTTL)*time.Second > s.opts.MaxTokenTTL {
		return nil, invalid("access_token_ttl", "access_token_ttl must be from 1 to "+
			strconv.FormatInt(int64(s.opts.MaxTokenTTL/time.Second), 10)+" seconds (0: the client's)")
	}
	r.AccessTokenTTL = time.Duration(in.AccessTokenTTL) * time.Second
	if len(in.IntrospectingClients) > maxIntrospectors {
		return nil, invalid("introspecting_clients", "at most 100 introspecting clients")
	}
	for _, id := range in.IntrospectingClients {
		if id == "" || len(id) > oauth.MaxResourceLength || !printable(id) || strings.Contains(id, " ") {
			return nil, invalid("introspecting_clients", "introspecting_clients must be client ids")
		}
		if !slices.Contains(r.IntrospectingClients, id) {
			r.IntrospectingClients = append(r.IntrospectingClients, id)
		}
	}
	return r, nil
}

func printable(s string) bool {
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}
