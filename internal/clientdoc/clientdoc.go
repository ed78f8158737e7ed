// Package clientdoc resolves clients whose client_id is the URL of their
// metadata: OAuth Client ID Metadata Documents
// (draft-ietf-oauth-client-id-metadata-document-01), the way the MCP
// authorization spec recommends agents identify themselves to a server they
// have never met. Such a client is registered nowhere: the document is
// fetched through the outbound fetcher (SSRF rules, size and time caps, HTTP
// caching), validated by the client service as registration would validate
// it, and held to the draft's further rules, on every fetch.
//
// A Resolver stands in front of the store where clients are looked up (the
// token endpoint, the authorization and logout pages): ids that are not
// https URLs go to the store untouched.
package clientdoc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"slices"
	"strings"
	"sync"

	"github.com/authd/authd/internal/client"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/outbound"
	"github.com/authd/authd/internal/store"
)

// Store is where registered clients are (the store, or a cache of it).
type Store interface {
	Client(ctx context.Context, id string) (*oauth.Client, error)
}

// Fetcher fetches documents under authd's outbound rules
// (*outbound.Fetcher). The Document returned stays the same value while it
// is cached, which lets the Resolver keep what it concluded from it.
type Fetcher interface {
	Get(ctx context.Context, rawURL string, accept ...string) (*outbound.Document, error)
}

// Validator checks metadata as registration would (*client.Service).
type Validator interface {
	Validate(m client.Metadata) (*oauth.Client, error)
}

const (
	// DefaultMaxBytes caps a document. The draft suggests 5 KB; a document
	// with an inline JWK Set of an RSA key or two needs more.
	DefaultMaxBytes = 16 << 10
	// DefaultMaxEntries bounds the conclusions kept, one per document.
	DefaultMaxEntries = 1024
)

// Options tune a Resolver. Zero values take the defaults.
type Options struct {
	MaxBytes   int
	MaxEntries int
	Logger     *slog.Logger
}

// Resolver looks clients up in the store, or, for a client_id that is a
// Client ID Metadata Document URL, at that URL. Safe for concurrent use.
type Resolver struct {
	st    Store
	fetch Fetcher
	v     Validator
	opts  Options

	mu   sync.Mutex
	memo map[string]concluded
}

// concluded is what one fetched document was found to be.
type concluded struct {
	doc *outbound.Document
	c   *oauth.Client
	err error
}

// New returns a Resolver in front of st.
func New(st Store, fetch Fetcher, v Validator, opts Options) *Resolver {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = DefaultMaxEntries
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Resolver{st: st, fetch: fetch, v: v, opts: opts, memo: map[string]concluded{}}
}

// Client returns the client named id. For a metadata document URL: the
// client it describes, or an error matching store.ErrNotFound when it cannot
// be fetched for good (refused by the SSRF rules, not found, too large) or
// does not describe a client authd accepts, or store.ErrUnavailable when its
// host cannot be reached now and no cached copy is left. The caller must
// not modify what it gets.
func (r *Resolver) Client(ctx context.Context, id string) (*oauth.Client, error) {
	if !oauth.IsClientIDURL(id) {
		return r.st.Client(ctx, id)
	}
	doc, err := r.fetch.Get(ctx, id)
	if err != nil {
		return nil, r.fetchError(ctx, id, err)
	}
	r.mu.Lock()
	k, ok := r.memo[id]
	r.mu.Unlock()
	if !ok || k.doc != doc {
		k = concluded{doc: doc}
		k.c, k.err = r.conclude(id, doc)
		if k.err != nil {
			r.opts.Logger.LogAttrs(ctx, slog.LevelInfo, "client metadata document refused",
				slog.String("client_id", id), slog.String("reason", k.err.Error()))
		}
		r.remember(id, k)
	}
	if k.err != nil {
		return nil, fmt.Errorf("%w: %s: %v", store.ErrNotFound, id, k.err)
	}
	c := *k.c
	return &c, nil
}

func (r *Resolver) remember(id string, k concluded) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.memo[id]; !ok && len(r.memo) >= r.opts.MaxEntries {
		// Any one goes: the fetcher's own cache decides what stays fetched,
		// and concluding again costs a parse.
		for old := range r.memo {
			delete(r.memo, old)
			break
		}
	}
	r.memo[id] = k
}

func (r *Resolver) fetchError(ctx context.Context, id string, err error) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, outbound.ErrUnavailable):
		return fmt.Errorf("%w: client metadata document %s: %v", store.ErrUnavailable, id, err)
	}
	// Refused, not found, too large, not a document: the same as a client
	// that does not exist, since a client_id is what the caller sent.
	r.opts.Logger.LogAttrs(ctx, slog.LevelDebug, "client metadata document not fetched",
		slog.String("client_id", id), slog.String("reason", err.Error()))
	return fmt.Errorf("%w: client metadata document %s: %v", store.ErrNotFound, id, err)
}

// The draft's §4.1 rules on the document's members, beyond registration's.
var (
	// A document is public: there is no way to give such a client a shared
	// secret, so no method built on one.
	docMethods = []string{oauth.AuthMethodNone, oauth.AuthMethodPrivateKeyJWT, oauth.AuthMethodTLS, oauth.AuthMethodSelfSignedTLS}
	// Grants for a client acting for a user, who consents. Grants that
	// issue tokens on the client's word alone are for clients an operator
	// registered, as under open registration.
	docGrants = []string{oauth.GrantAuthorizationCode, oauth.GrantRefreshToken}
)

func (r *Resolver) conclude(id string, doc *outbound.Document) (*oauth.Client, error) {
	if len(doc.Body) > r.opts.MaxBytes {
		return nil, fmt.Errorf("the document is %d bytes, more than %d", len(doc.Body), r.opts.MaxBytes)
	}
	// §4.1: application/json, or a more specific type that is JSON.
	if mt, _, err := mime.ParseMediaType(doc.ContentType); err != nil || (mt != "application/json" && !(strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))) {
		return nil, fmt.Errorf("content type %q is not JSON", doc.ContentType)
	}
	var m client.Metadata
	if err := json.Unmarshal(doc.Body, &m); err != nil {
		return nil, fmt.Errorf("not a JSON object of client metadata: %v", err)
	}
	var members map[string]json.RawMessage
	_ = json.Unmarshal(doc.Body, &members) // the same object m came from
	// §4.1: the document's client_id is its URL, compared as strings
	// (RFC 3986 §6.2.1), so a document cannot speak for another URL.
	if m.ClientID != id {
		return nil, fmt.Errorf("client_id %.256q is not the document's URL", m.ClientID)
	}
	// §4.1: no shared secret, in the method or the members.
	for _, name := range []string{"client_secret", "client_secret_expires_at"} {
		if _, ok := members[name]; ok {
			return nil, fmt.Errorf("%s is not allowed in a client metadata document", name)
		}
	}
	if m.TokenEndpointAuthMethod == "" {
		// RFC 7591's default, client_secret_basic, cannot be a document's.
		m.TokenEndpointAuthMethod = oauth.AuthMethodNone
	}
	if !slices.Contains(docMethods, m.TokenEndpointAuthMethod) {
		return nil, fmt.Errorf("token_endpoint_auth_method %.64q needs a shared secret; a document may use %s", m.TokenEndpointAuthMethod, strings.Join(docMethods, ", "))
	}
	if len(m.FederatedCredentials) > 0 {
		return nil, errors.New("federated_credentials are for clients an operator registered")
	}
	if len(m.RedirectURIs) == 0 {
		return nil, errors.New("redirect_uris is required")
	}
	if len(m.GrantTypes) == 0 {
		m.GrantTypes = []string{oauth.GrantAuthorizationCode}
	}
	for _, g := range m.GrantTypes {
		if !slices.Contains(docGrants, g) {
			return nil, fmt.Errorf("grant type %.64q is not for a client registered by its document; allowed: %s", g, strings.Join(docGrants, ", "))
		}
	}
	// What only the operator decides is not the document's to say: consent
	// is never skipped, token lifetimes and formats are the server's, and
	// cross-origin access is for registered clients.
	m.FirstParty, m.AccessTokenTTL, m.AccessTokenFormat, m.AllowedCORSOrigins = false, 0, "", nil
	m.ClientID = "" // validated as a registration would be; the id is the URL
	c, err := r.v.Validate(m)
	if err != nil {
		var im *client.InvalidMetadata
		if errors.As(err, &im) {
			return nil, fmt.Errorf("%s: %s", im.Field, im.Reason)
		}
		return nil, err
	}
	c.ID, c.FirstParty = id, false
	c.SecretHash, c.SecretSealed = nil, nil
	return c, nil
}
