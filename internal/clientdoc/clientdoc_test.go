package clientdoc

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authd/authd/internal/client"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/outbound"
	"github.com/authd/authd/internal/store"
)

// registered is the store behind the resolver: one client, "app".
type registered struct{ lookups atomic.Int64 }

func (s *registered) Client(_ context.Context, id string) (*oauth.Client, error) {
	s.lookups.Add(1)
	if id == "app" {
		return &oauth.Client{ID: "app"}, nil
	}
	return nil, store.ErrNotFound
}

// docs serves client metadata documents by path over TLS, as a client's
// site would.
type docs struct {
	srv     *httptest.Server
	mu      sync.Mutex
	bodies  map[string]string
	types   map[string]string
	fetches atomic.Int64
}

func newDocs(t *testing.T) *docs {
	d := &docs{bodies: map[string]string{}, types: map[string]string{}}
	d.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.fetches.Add(1)
		d.mu.Lock()
		body, ok := d.bodies[r.URL.Path]
		ctype := d.types[r.URL.Path]
		d.mu.Unlock()
		switch {
		case r.URL.Path == "/elsewhere":
			http.Redirect(w, r, "https://10.0.0.1/client.json", http.StatusFound)
			return
		case !ok:
			http.NotFound(w, r)
			return
		}
		if ctype == "" {
			ctype = "application/json"
		}
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Cache-Control", "max-age=300")
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(d.srv.Close)
	return d
}

// put serves body at path; its "{{id}}" becomes the document's URL.
func (d *docs) put(path, body, ctype string) string {
	id := d.srv.URL + path
	d.mu.Lock()
	d.bodies[path] = strings.ReplaceAll(body, "{{id}}", id)
	d.types[path] = ctype
	d.mu.Unlock()
	return id
}

func newResolver(t *testing.T, d *docs, st Store) *Resolver {
	t.Helper()
	pool := d.srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	f, err := outbound.New(outbound.Options{AllowLoopback: true, RootCAs: pool, Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	svc := client.New(nil, client.Options{
		Grants:             []string{oauth.GrantAuthorizationCode, oauth.GrantRefreshToken, oauth.GrantClientCredentials},
		MaxTokenTTL:        time.Hour,
		AllowLoopbackFetch: true,
	})
	return New(st, f, svc, Options{})
}

const good = `{"client_id": "{{id}}", "client_name": "Agent", "redirect_uris": ["http://127.0.0.1/cb", "https://agent.example/cb"],
	"grant_types": ["authorization_code", "refresh_token"], "token_endpoint_auth_method": "none", "unknown_member": 1}`

func TestResolver(t *testing.T) {
	d := newDocs(t)
	st := &registered{}
	r := newResolver(t, d, st)
	ctx := context.Background()
	key := `{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}`

	tests := []struct {
		name, path, body, ctype string
		check                   func(t *testing.T, c *oauth.Client)
		why                     string // in the refusal, "" when accepted
	}{
		{name: "a public client", path: "/good.json", body: good, check: func(t *testing.T, c *oauth.Client) {
			if c.Name != "Agent" || !c.Public() || c.FirstParty || !c.HasRedirectURI("https://agent.example/cb") ||
				!c.AllowsGrant(oauth.GrantRefreshToken) || c.TokenEndpointAuthMethod != oauth.AuthMethodNone {
				t.Errorf("client %+v", c)
			}
		}},
		{name: "no method means none, no grants means authorization_code", path: "/defaults.json",
			body: `{"client_id": "{{id}}", "redirect_uris": ["https://agent.example/cb"]}`, check: func(t *testing.T, c *oauth.Client) {
				if c.TokenEndpointAuthMethod != oauth.AuthMethodNone || !c.AllowsGrant(oauth.GrantAuthorizationCode) || c.AllowsGrant(oauth.GrantRefreshToken) {
					t.Errorf("client %+v", c)
				}
			}},
		{name: "private_key_jwt with its keys", path: "/keys.json",
			body: `{"client_id": "{{id}}", "redirect_uris": ["https://agent.example/cb"], "token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [` + key + `]}}`,
			check: func(t *testing.T, c *oauth.Client) {
				if c.TokenEndpointAuthMethod != oauth.AuthMethodPrivateKeyJWT || c.Public() || c.Metadata.JWKS == nil {
					t.Errorf("client %+v", c)
				}
			}},
		{name: "what only the operator decides is ignored", path: "/operator.json",
			body: `{"client_id": "{{id}}", "redirect_uris": ["https://agent.example/cb"], "first_party": true, "access_token_ttl": 86400, "allowed_cors_origins": ["https://evil.example"]}`,
			check: func(t *testing.T, c *oauth.Client) {
				if c.FirstParty || c.AccessTokenTTL != 0 || len(c.AllowedCORSOrigins) != 0 {
					t.Errorf("client %+v", c)
				}
			}},
		{name: "a more specific JSON type", path: "/typed.json", body: good, ctype: "application/client-metadata+json; charset=utf-8"},

		{name: "client_id another URL", path: "/other.json", body: `{"client_id": "https://other.example/client.json", "redirect_uris": ["https://agent.example/cb"]}`, why: "not the document's URL"},
		{name: "client_id missing", path: "/noid.json", body: `{"redirect_uris": ["https://agent.example/cb"]}`, why: "not the document's URL"},
		{name: "a shared secret method", path: "/basic.json", body: `{"client_id": "{{id}}", "redirect_uris": ["https://agent.example/cb"], "token_endpoint_auth_method": "client_secret_basic"}`, why: "needs a shared secret"},
		{name: "client_secret_jwt", path: "/sjwt.json", body: `{"client_id": "{{id}}", "redirect_uris": ["https://agent.example/cb"], "token_endpoint_auth_method": "client_secret_jwt"}`, why: "needs a shared secret"},
		{name: "a client_secret member", path: "/secret.json", body: `{"client_id": "{{id}}", "redirect_uris": ["https://agent.example/cb"], "client_secret": "s"}`, why: "client_secret is not allowed"},
		{name: "client_credentials", path: "/cc.json", body: `{"client_id": "{{id}}", "redirect_uris": ["https://agent.example/cb"], "grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [` + key + `]}}`, why: "grant type"},
		{name: "no redirect URIs", path: "/noredirect.json", body: `{"client_id": "{{id}}"}`, why: "redirect_uris is required"},
		{name: "a bad redirect URI", path: "/badredirect.json", body: `{"client_id": "{{id}}", "redirect_uris": ["http://agent.example/cb"]}`, why: "redirect_uris"},
		{name: "federated credentials", path: "/fed.json", body: `{"client_id": "{{id}}", "redirect_uris": ["https://agent.example/cb"], "token_endpoint_auth_method": "private_key_jwt", "federated_credentials": [{"issuer": "https://issuer.example", "subject": "x"}]}`, why: "federated_credentials"},
		{name: "private_key_jwt without keys", path: "/nokeys.json", body: `{"client_id": "{{id}}", "redirect_uris": ["https://agent.example/cb"], "token_endpoint_auth_method": "private_key_jwt"}`, why: "jwks"},
		{name: "not JSON", path: "/html.json", body: good, ctype: "text/html", why: "not JSON"},
		{name: "not an object", path: "/array.json", body: `[1]`, why: "not a JSON object"},
		{name: "too large", path: "/large.json", body: `{"client_id": "{{id}}", "redirect_uris": ["https://agent.example/cb"], "client_name": "` + strings.Repeat("x", DefaultMaxBytes) + `"}`, why: "more than"},
		{name: "not served", path: "/missing.json", why: "404"},
		{name: "redirected to a private address", path: "/elsewhere", why: "refused"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := d.srv.URL + tc.path
			if tc.body != "" {
				id = d.put(tc.path, tc.body, tc.ctype)
			}
			c, err := r.Client(ctx, id)
			if tc.why != "" {
				if !errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), tc.why) {
					t.Fatalf("err %v, want ErrNotFound saying %q", err, tc.why)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.ID != id {
				t.Errorf("id %q, want the URL %q", c.ID, id)
			}
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}

	t.Run("ids that are not URLs go to the store", func(t *testing.T) {
		before := d.fetches.Load()
		if c, err := r.Client(ctx, "app"); err != nil || c.ID != "app" {
			t.Fatalf("app: %v %v", c, err)
		}
		if _, err := r.Client(ctx, "http://agent.example/client.json"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("an http URL: %v", err)
		}
		if d.fetches.Load() != before || st.lookups.Load() != 2 {
			t.Errorf("fetches %d, store lookups %d", d.fetches.Load()-before, st.lookups.Load())
		}
	})

	t.Run("a cached document is not fetched again, and the client is a copy", func(t *testing.T) {
		id := d.put("/cached.json", good, "")
		a, err := r.Client(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		before := d.fetches.Load()
		a.Name = "changed by a caller"
		b, err := r.Client(ctx, id)
		if err != nil || b.Name != "Agent" {
			t.Fatalf("second lookup: %+v %v", b, err)
		}
		if d.fetches.Load() != before {
			t.Errorf("%d fetches for a fresh document", d.fetches.Load()-before)
		}
	})

	t.Run("a host that cannot be reached is unavailable, not unknown", func(t *testing.T) {
		down := httptest.NewTLSServer(http.NotFoundHandler())
		id := down.URL + "/client.json"
		down.Close()
		if _, err := r.Client(ctx, id); !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("err %v, want ErrUnavailable", err)
		}
	})
}

func TestResolverConcurrent(t *testing.T) {
	d := newDocs(t)
	r := newResolver(t, d, &registered{})
	r.opts.MaxEntries = 4 // so that concurrent lookups also evict
	ids := make([]string, 8)
	for i := range ids {
		ids[i] = d.put("/c"+string(rune('a'+i))+".json", good, "")
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				id := ids[(g+i)%len(ids)]
				c, err := r.Client(context.Background(), id)
				if err == nil && c.ID != id {
					err = errors.New("client " + c.ID + " for " + id)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(r.memo); n > 4 {
		t.Errorf("%d conclusions kept, bound 4", n)
	}
}

// FuzzConclude: whatever a document says, the resolver either refuses it or
// yields a client the draft allows: its own URL as id, no shared secret,
// never first-party, a user-facing grant only.
func FuzzConclude(f *testing.F) {
	for _, s := range []string{good, `{"client_id": "{{id}}"}`, `{"client_id": "{{id}}", "redirect_uris": ["https://a/cb"], "grant_types": ["client_credentials"]}`, `{}`, `[`, `{"client_id": "{{id}}", "redirect_uris": ["https://a/cb"], "first_party": true, "token_endpoint_auth_method": "client_secret_post"}`} {
		f.Add(s)
	}
	svc := client.New(nil, client.Options{Grants: []string{oauth.GrantAuthorizationCode, oauth.GrantRefreshToken, oauth.GrantClientCredentials, oauth.GrantPassword}, MaxTokenTTL: time.Hour})
	r := New(&registered{}, nil, svc, Options{})
	const id = "https://agent.example/client.json"
	f.Fuzz(func(t *testing.T, body string) {
		body = strings.ReplaceAll(body, "{{id}}", id)
		c, err := r.conclude(id, &outbound.Document{URL: id, Body: []byte(body), ContentType: "application/json"})
		if err != nil {
			return
		}
		if c.ID != id || c.FirstParty || len(c.SecretHash) != 0 || len(c.SecretSealed) != 0 || len(c.RedirectURIs) == 0 {
			t.Fatalf("client %+v from %s", c, body)
		}
		for _, m := range []string{oauth.AuthMethodBasic, oauth.AuthMethodPost, oauth.AuthMethodSecretJWT} {
			if c.TokenEndpointAuthMethod == m {
				t.Fatalf("method %s from %s", m, body)
			}
		}
		for _, g := range c.GrantTypes {
			if g != oauth.GrantAuthorizationCode && g != oauth.GrantRefreshToken {
				t.Fatalf("grant %s from %s", g, body)
			}
		}
		var m map[string]any
		if json.Unmarshal([]byte(body), &m) != nil || m["client_id"] != id {
			t.Fatalf("accepted %s", body)
		}
	})
}
