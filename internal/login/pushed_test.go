package login

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/internal/authzreq"
	"github.com/authd/authd/internal/oauth"
)

// jarEnv is an env that serves pushed requests and request objects, with a
// client "jar" (one redirect URI) that signs with jarKey.
type jarEnv struct {
	*env
	jarKey *ecdsa.PrivateKey
}

func newJAREnv(t *testing.T, opts func(*Options)) *jarEnv {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var e *env
	e = newEnvConfig(t, envConfig{issuer: testIssuer, opts: opts, wrap: func(d *Deps) {
		v, err := authzreq.NewVerifier(authzreq.Options{Issuer: testIssuer, Now: func() time.Time { return e.clock.Now() }})
		if err != nil {
			t.Fatal(err)
		}
		d.RequestObjects, d.Pushed = v, d.Codes.(PushedRequests)
	}})
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Use: "sig"}}})
	c := &oauth.Client{
		ID: "jar", Name: "JAR App", TokenEndpointAuthMethod: oauth.AuthMethodPrivateKeyJWT,
		GrantTypes: []string{oauth.GrantAuthorizationCode}, FirstParty: true,
		RedirectURIs: []string{"https://jar.example/cb"}, Scopes: []string{"openid", "profile"},
	}
	c.Metadata.JWKS = set
	if err := e.db.CreateClient(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	return &jarEnv{env: e, jarKey: key}
}

func (e *jarEnv) client(id string) *oauth.Client {
	e.t.Helper()
	c, err := e.db.Client(e.t.Context(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// push pushes p for client id and returns the request_uri.
func (e *jarEnv) push(id string, p url.Values) string {
	e.t.Helper()
	uri, ttl, err := e.h.Push(e.t.Context(), e.client(id), p, "")
	if err != nil {
		e.t.Fatalf("Push: %v", err)
	}
	if ttl != defaultPushedTTL || !authzreq.IsPushed(uri) {
		e.t.Fatalf("Push = %q, %v", uri, ttl)
	}
	return uri
}

// requestObject signs p as client jar's request object, with edits applied
// to the claims.
func (e *jarEnv) requestObject(p url.Values, edit func(map[string]any)) string {
	e.t.Helper()
	cl := map[string]any{"iss": "jar", "aud": testIssuer, "client_id": "jar", "exp": e.clock.Now().Add(time.Minute).Unix()}
	for k := range p {
		cl[k] = p.Get(k)
	}
	if edit != nil {
		edit(cl)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: e.jarKey},
		(&jose.SignerOptions{}).WithType("oauth-authz-req+jwt").WithHeader("kid", "k1"))
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := json.Marshal(cl)
	jws, err := s.Sign(b)
	if err != nil {
		e.t.Fatal(err)
	}
	out, _ := jws.CompactSerialize()
	return out
}

func jarParams(overrides ...string) url.Values {
	return authParams("jar", append([]string{"redirect_uri", "https://jar.example/cb", "scope", "openid"}, overrides...)...)
}

// TestPushedRequestCompletesFlow: the request_uri stands for the pushed
// parameters through the login form (whose hidden fields carry them), and
// parameters sent beside it are ignored (RFC 9126 §4).
func TestPushedRequestCompletesFlow(t *testing.T) {
	e := newJAREnv(t, nil)
	uri := e.push("jar", jarParams("state", "pushed-state"))
	q := url.Values{"client_id": {"jar"}, "request_uri": {uri}, "state": {"outside"}, "scope": {"bogus"}, "redirect_uri": {"https://evil.example"}}
	page := e.authorize(e.env.client, q)
	wantPage(t, page, http.StatusOK, `action="/login"`)
	f := formOf(t, page.body)
	if f.Get("state") != "pushed-state" || f.Has("request_uri") || f.Get(pPushed) == "" {
		t.Fatalf("login form carries %v", f)
	}
	r := e.login(e.env.client, page, "alice", testPassword)
	wantRedirect(t, r, http.StatusSeeOther, "https://jar.example/cb", map[string]string{"code": "*", "state": "pushed-state"})

	// Single use: the same request_uri again is refused, at the client's
	// only redirect URI.
	r = e.authorize(e.env.client, url.Values{"client_id": {"jar"}, "request_uri": {uri}})
	wantRedirect(t, r, http.StatusFound, "https://jar.example/cb", map[string]string{"error": "invalid_request_uri", "code": ""})
}

// TestPushedRequestFormPOST: a form-POSTed request_uri is passed on to the
// GET unspent and without the pushed parameters in the Location (OpenID
// Connect Core §3.1.2.1 POST, RFC 9126 §1: they were pushed to keep them out
// of URLs); the GET then spends it.
func TestPushedRequestFormPOST(t *testing.T) {
	e := newJAREnv(t, nil)
	uri := e.push("jar", jarParams("state", "pushed-state"))
	r := e.post(e.env.client, PathAuthorize, url.Values{"client_id": {"jar"}, "request_uri": {uri}, "state": {"outside"}})
	if r.status != http.StatusSeeOther || r.location == nil {
		t.Fatalf("POST: %d %v", r.status, r.location)
	}
	if q := r.location.Query(); len(q) != 2 || q.Get("request_uri") != uri || q.Get("client_id") != "jar" {
		t.Fatalf("Location = %s, want client_id and request_uri only", r.location)
	}
	page := e.get(e.env.client, r.location.RequestURI())
	wantPage(t, page, http.StatusOK, `action="/login"`)
	if f := formOf(t, page.body); f.Get("state") != "pushed-state" {
		t.Fatalf("login form carries %v", f)
	}
	// An unknown client is a page, as for any request.
	wantPage(t, e.post(e.env.client, PathAuthorize, url.Values{"client_id": {"nope"}, "request_uri": {uri}}), http.StatusBadRequest, "Unknown application")
}

func TestPushedRequestRefusals(t *testing.T) {
	e := newJAREnv(t, nil)
	tests := []struct {
		name      string
		query     func() url.Values
		wantError string
		wantState string
	}{
		{"reused", func() url.Values {
			uri := e.push("jar", jarParams())
			e.authorize(e.newBrowser(), url.Values{"client_id": {"jar"}, "request_uri": {uri}})
			return url.Values{"client_id": {"jar"}, "request_uri": {uri}}
		}, "invalid_request_uri", ""},
		{"expired", func() url.Values {
			uri := e.push("jar", jarParams())
			e.clock.Advance(defaultPushedTTL + time.Second)
			return url.Values{"client_id": {"jar"}, "request_uri": {uri}}
		}, "invalid_request_uri", ""},
		{"another client's", func() url.Values {
			uri := e.push("first", authParams("first"))
			return url.Values{"client_id": {"jar"}, "request_uri": {uri}, "state": {"s1"}}
		}, "invalid_request_uri", "s1"},
		{"not a PAR request_uri", func() url.Values {
			return url.Values{"client_id": {"jar"}, "request_uri": {"https://jar.example/request.jwt"}}
		}, authzreq.CodeRequestURINotSupported, ""},
		{"request and request_uri", func() url.Values {
			uri := e.push("jar", jarParams())
			return url.Values{"client_id": {"jar"}, "request_uri": {uri}, "request": {e.requestObject(jarParams(), nil)}}
		}, "invalid_request", ""},
		{"forged pushed marker", func() url.Values {
			return jarParams(pPushed, "1.AAAA")
		}, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.authorize(e.newBrowser(), tc.query())
			if tc.wantError == "" {
				wantPage(t, r, http.StatusBadRequest, "altered")
				return
			}
			wantRedirect(t, r, http.StatusFound, "https://jar.example/cb", map[string]string{"error": tc.wantError, "state": tc.wantState, "code": ""})
		})
	}
}

// TestPushRefusals: the push is validated as the authorization request
// would be, before anything is stored.
func TestPushRefusals(t *testing.T) {
	e := newJAREnv(t, nil)
	tests := []struct {
		name      string
		client    string
		params    url.Values
		dpopJKT   string
		wantError string
	}{
		{"request_uri in the push", "jar", jarParams("request_uri", "urn:ietf:params:oauth:request_uri:x"), "", "invalid_request"},
		{"another client_id", "jar", jarParams("client_id", "web"), "", "invalid_request"},
		{"unregistered redirect_uri", "jar", jarParams("redirect_uri", "https://evil.example/cb"), "", "invalid_request"},
		{"no PKCE", "jar", jarParams("code_challenge", ""), "", "invalid_request"},
		{"scope not allowed", "jar", jarParams("scope", "admin"), "", "invalid_scope"},
		{"response_type token", "jar", jarParams("response_type", "token"), "", "unsupported_response_type"},
		{"dpop_jkt not the proof's", "jar", jarParams("dpop_jkt", testChallenge), strings.Repeat("A", 43), "invalid_request"},
		{"client without the code grant", "m2m", authParams("m2m", "redirect_uri", "https://m2m.example/cb"), "", "unauthorized_client"},
		{"request object with wrong aud", "jar", url.Values{"request": {e.requestObject(jarParams(), func(c map[string]any) { c["aud"] = "https://other.example" })}}, "", authzreq.CodeInvalidRequestObject},
		{"request object of another client", "web", url.Values{"request": {e.requestObject(authParams("web"), nil)}}, "", authzreq.CodeInvalidRequestObject},
		{"request object expired", "jar", url.Values{"request": {e.requestObject(jarParams(), func(c map[string]any) { c["exp"] = e.clock.Now().Add(-time.Minute).Unix() })}}, "", authzreq.CodeInvalidRequestObject},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			uri, _, err := e.h.Push(t.Context(), e.client(tc.client), tc.params, tc.dpopJKT)
			if oe, ok := oauth.As(err); !ok || oe.Code != tc.wantError || uri != "" {
				t.Fatalf("Push = %q, %v; want %s", uri, err, tc.wantError)
			}
		})
	}
}

// TestPushedDPoPKey: the thumbprint of the push's DPoP proof becomes the
// request's dpop_jkt (RFC 9449 §10.1).
func TestPushedDPoPKey(t *testing.T) {
	e := newJAREnv(t, nil)
	jkt := strings.Repeat("B", 43)
	uri, _, err := e.h.Push(t.Context(), e.client("jar"), jarParams(), jkt)
	if err != nil {
		t.Fatal(err)
	}
	page := e.authorize(e.env.client, url.Values{"client_id": {"jar"}, "request_uri": {uri}})
	if f := formOf(t, page.body); f.Get(pDPoPJKT) != jkt {
		t.Fatalf("dpop_jkt carried = %q, want %q", f.Get(pDPoPJKT), jkt)
	}
}

// TestRequirePAR: a client that must push (globally or by its own
// registration) is refused a plain request, also when it comes back through
// the login form without the pushed marker, and served a pushed one.
func TestRequirePAR(t *testing.T) {
	for _, mode := range []string{"global", "per client", "fapi2 by default", "fapi2 client"} {
		t.Run(mode, func(t *testing.T) {
			e := newJAREnv(t, func(o *Options) {
				o.RequirePAR = mode == "global"
				if mode == "fapi2 by default" {
					o.SecurityProfile = oauth.ProfileFAPI2
				}
			})
			if mode == "per client" || mode == "fapi2 client" {
				c := e.client("jar")
				c.Metadata.RequirePushedAuthorizationRequests = mode == "per client"
				if mode == "fapi2 client" {
					c.Metadata.SecurityProfile = oauth.ProfileFAPI2
				}
				if err := e.db.UpdateClient(t.Context(), c); err != nil {
					t.Fatal(err)
				}
			}
			r := e.authorize(e.env.client, jarParams())
			wantRedirect(t, r, http.StatusFound, "https://jar.example/cb", map[string]string{"error": "invalid_request", "state": "st-123"})
			// A request object sent here was not pushed either.
			r = e.authorize(e.env.client, url.Values{"client_id": {"jar"}, "request": {e.requestObject(jarParams(), nil)}})
			wantRedirect(t, r, http.StatusFound, "https://jar.example/cb", map[string]string{"error": "invalid_request", "state": "st-123"})

			page := e.authorize(e.env.client, url.Values{"client_id": {"jar"}, "request_uri": {e.push("jar", jarParams())}})
			wantPage(t, page, http.StatusOK, `action="/login"`)
			// The marker cannot be moved to other parameters, nor dropped.
			f := formOf(t, page.body)
			f.Set("state", "changed")
			f.Set("username", "alice")
			f.Set("password", testPassword)
			wantPage(t, e.post(e.env.client, PathLogin, f), http.StatusBadRequest, "altered")
			f = formOf(t, page.body)
			f.Del(pPushed)
			f.Set("username", "alice")
			f.Set("password", testPassword)
			wantRedirect(t, e.post(e.env.client, PathLogin, f), http.StatusSeeOther, "https://jar.example/cb", map[string]string{"error": "invalid_request"})
			// As drawn, the form completes the flow.
			r = e.login(e.env.client, page, "alice", testPassword)
			wantRedirect(t, r, http.StatusSeeOther, "https://jar.example/cb", map[string]string{"code": "*", "state": "st-123"})
		})
	}
}

// TestRequestObjectAtAuthorize: the object's parameters are used and those
// beside it ignored (RFC 9101 §5), through the login form; a bad object is
// invalid_request_object.
func TestRequestObjectAtAuthorize(t *testing.T) {
	e := newJAREnv(t, nil)
	obj := e.requestObject(jarParams("state", "signed"), nil)
	page := e.authorize(e.env.client, url.Values{"client_id": {"jar"}, "request": {obj}, "state": {"outside"}, "scope": {"bogus"}})
	wantPage(t, page, http.StatusOK, `action="/login"`)
	if f := formOf(t, page.body); f.Get("state") != "signed" || f.Has("request") || f.Has(pPushed) {
		t.Fatalf("login form carries %v", f)
	}
	r := e.login(e.env.client, page, "alice", testPassword)
	wantRedirect(t, r, http.StatusSeeOther, "https://jar.example/cb", map[string]string{"code": "*", "state": "signed"})

	tests := []struct {
		name string
		edit func(map[string]any)
	}{
		{"wrong aud", func(c map[string]any) { c["aud"] = testIssuer + "/oauth2/token" }},
		{"wrong iss", func(c map[string]any) { c["iss"] = "web" }},
		{"expired", func(c map[string]any) { c["exp"] = e.clock.Now().Add(-time.Hour).Unix() }},
		{"client_id mismatch", func(c map[string]any) { c["client_id"] = "web" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.authorize(e.newBrowser(), url.Values{"client_id": {"jar"}, "request": {e.requestObject(jarParams(), tc.edit)}, "state": {"outside"}})
			wantRedirect(t, r, http.StatusFound, "https://jar.example/cb", map[string]string{"error": authzreq.CodeInvalidRequestObject, "state": "outside", "code": ""})
		})
	}
	// An unsigned object (alg none) for a client that must sign.
	none := "eyJhbGciOiJub25lIn0." + strings.Split(obj, ".")[1] + "."
	r = e.authorize(e.newBrowser(), url.Values{"client_id": {"jar"}, "request": {none}})
	wantRedirect(t, r, http.StatusFound, "https://jar.example/cb", map[string]string{"error": authzreq.CodeInvalidRequestObject})
}

// FuzzPushedMarker: the marker carried in forms is untrusted input; no
// string but the one the handler made verifies for the parameters.
func FuzzPushedMarker(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	h := &Handler{pushedKey: derivePushedKey(make([]byte, 32)), now: func() time.Time { return now }}
	params := jarParams()
	good := h.pushedMarker(params, now)
	f.Add(good)
	f.Add("1.AAAA")
	f.Add("")
	f.Add(strings.Repeat("9", 30) + "." + strings.Repeat("A", 43))
	f.Fuzz(func(t *testing.T, marker string) {
		if h.checkPushedMarker(marker, params) && marker != good {
			t.Fatalf("accepted a marker the handler did not make: %q", marker)
		}
	})
}
