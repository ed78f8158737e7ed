package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/authd/authd/internal/httpapi"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/resource"
	"github.com/authd/authd/internal/store"
)

const (
	ordersAPI  = "https://api.example.com/orders"
	billingAPI = "https://billing.example.com/"
	spareAPI   = "urn:example:spare"
)

// resourceSetup registers three resources, a service client, one limited to
// billing, and one resource server per API plus an unlinked gateway.
func resourceSetup(t *testing.T) (*harness, *store.User, *resource.Service) {
	t.Helper()
	h, u := userSetup(t)
	res := resource.New(h.db, resource.Options{Now: h.clock.Now, Changed: h.svc.InvalidateResource})
	for _, in := range []resource.Input{
		{Resource: ordersAPI, Scope: "read orders:read", AccessTokenFormat: oauth.FormatOpaque, AccessTokenTTL: 300,
			IntrospectingClients: []string{"rs-orders"}},
		{Resource: billingAPI, Scope: "read write", IntrospectingClients: []string{"rs-billing"}},
		{Resource: spareAPI, Scope: "read"},
	} {
		if _, err := res.Create(context.Background(), in, resource.Caller{}); err != nil {
			t.Fatal(err)
		}
	}
	h.addClient("svc", "svc-secret", func(c *oauth.Client) { c.Scopes = []string{"read", "write", "orders:read"} })
	h.addClient("limited", "limited-secret", func(c *oauth.Client) {
		c.Metadata.AllowedResources = []string{billingAPI}
	})
	for _, id := range []string{"rs-orders", "rs-billing", "gw"} {
		h.addClient(id, id+"-secret", nil)
	}
	return h, u, res
}

func ccForm(resources ...string) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "resource": resources}
}

// TestResourceIndicators: RFC 8707 at the token endpoint, for every grant.
func TestResourceIndicators(t *testing.T) {
	h, u, _ := resourceSetup(t)
	svc := withBasic("svc", "svc-secret")
	web := withBasic("web", "web-secret")

	// The code grants two resources; each token names one.
	twoAPIs := func(c *store.AuthCode) { c.Resources = []string{billingAPI, ordersAPI} }
	h.code("two", "web", u.ID, "openid read", twoAPIs)
	status, byCode := h.exchange(withResource(codeForm("two", ""), ordersAPI), web)
	if status != 200 {
		t.Fatalf("code for orders: %d %v", status, byCode)
	}
	rt := byCode["refresh_token"].(string)

	tests := []struct {
		name       string
		form       url.Values
		opts       []reqOpt
		wantStatus int
		wantErr    string
		// For a token: its scope, lifetime, and aud as introspection tells.
		wantScope string
		wantTTL   float64
		wantAud   any
	}{
		{"unknown resource", ccForm("https://unknown.example/"), []reqOpt{svc}, 400, "invalid_target", "", 0, nil},
		{"not a URI", ccForm("orders"), []reqOpt{svc}, 400, "invalid_target", "", 0, nil},
		{"with a fragment", ccForm(ordersAPI + "#x"), []reqOpt{svc}, 400, "invalid_target", "", 0, nil},
		{"not allowed to the client", ccForm(ordersAPI), []reqOpt{withBasic("limited", "limited-secret")}, 400, "invalid_target", "", 0, nil},
		{"two resources in one token request", ccForm(ordersAPI, billingAPI), []reqOpt{svc}, 400, "invalid_target", "", 0, nil},
		{"allowed to the client", ccForm(billingAPI), []reqOpt{withBasic("limited", "limited-secret")}, 200, "", "read write", 3600, billingAPI},
		{"scope cut to the resource's, format and ttl the resource's", ccForm(ordersAPI), []reqOpt{svc}, 200, "", "read orders:read", 300, ordersAPI},
		{"a scope the resource does not define is cut", withScope(ccForm(ordersAPI), "read write"), []reqOpt{svc}, 200, "", "read", 300, ordersAPI},
		{"the same resource twice is one", ccForm(billingAPI, billingAPI), []reqOpt{svc}, 200, "", "read write", 3600, billingAPI},
		{"without resource, as before", ccForm(), []reqOpt{svc}, 200, "", "read write orders:read", 3600, issuer},
		{"code: resource not granted", withResource(codeForm(h.code("c1", "web", u.ID, "openid read", twoAPIs), ""), spareAPI),
			[]reqOpt{web}, 400, "invalid_target", "", 0, nil},
		{"code: two granted, none named", codeForm(h.code("c2", "web", u.ID, "openid read", twoAPIs), ""),
			[]reqOpt{web}, 400, "invalid_target", "", 0, nil},
		{"code: one granted, none named", codeForm(h.code("c3", "web", u.ID, "openid read",
			func(c *store.AuthCode) { c.Resources = []string{billingAPI} }), ""), []reqOpt{web}, 200, "", "read", 3600, billingAPI},
		{"code: no resource granted, one named", withResource(codeForm(h.code("c4", "web", u.ID, "openid read", nil), ""), spareAPI),
			[]reqOpt{web}, 200, "", "read", 3600, spareAPI},
		{"refresh: a resource not granted", withResource(webRefresh(rt), spareAPI), []reqOpt{web}, 400, "invalid_target", "", 0, nil},
		{"refresh: two granted, none named", webRefresh(rt), []reqOpt{web}, 400, "invalid_target", "", 0, nil},
		// The refusals above spent nothing: the same refresh token still works.
		{"refresh: down to the other granted resource", withResource(webRefresh(rt), billingAPI), []reqOpt{web}, 200, "", "read", 3600, billingAPI},
		{"password: one resource", withResource(url.Values{"grant_type": {"password"}, "username": {"alice"},
			"password": {"correct horse battery staple"}, "scope": {"read"}}, ordersAPI), []reqOpt{web}, 200, "", "read", 300, ordersAPI},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := h.postForm(httpapi.PathToken, tc.form, tc.opts...)
			body := decodeJSON(t, w.Body.Bytes())
			if w.Code != tc.wantStatus || (tc.wantErr != "" && body["error"] != tc.wantErr) {
				t.Fatalf("got %d %v, want %d %s", w.Code, body, tc.wantStatus, tc.wantErr)
			}
			if tc.wantErr != "" {
				return
			}
			if body["scope"] != tc.wantScope || body["expires_in"] != tc.wantTTL {
				t.Fatalf("scope %v expires_in %v, want %q %v", body["scope"], body["expires_in"], tc.wantScope, tc.wantTTL)
			}
			info := h.introspect("gw", "gw-secret", body["access_token"].(string))
			if info["active"] != true || info["aud"] != tc.wantAud {
				t.Fatalf("introspection = %v, want active with aud %v", info, tc.wantAud)
			}
		})
	}
	// The code's id_token was issued though openid is not a scope of the API.
	if byCode["id_token"] == nil || byCode["scope"] != "read" {
		t.Fatalf("code response = %v", byCode)
	}
}

func withResource(f url.Values, r ...string) url.Values {
	f["resource"] = append(f["resource"], r...)
	return f
}

// webRefresh is a refresh request for the confidential web client, which
// authenticates with Basic.
func webRefresh(rt string) url.Values {
	f := refreshForm(rt)
	f.Del("client_id")
	return f
}

func withScope(f url.Values, s string) url.Values { f.Set("scope", s); return f }

// TestRefreshKeepsResources: every rotation keeps the family's resources.
func TestRefreshKeepsResources(t *testing.T) {
	h, u, _ := resourceSetup(t)
	web := withBasic("web", "web-secret")
	h.code("k", "web", u.ID, "openid read", func(c *store.AuthCode) { c.Resources = []string{billingAPI, ordersAPI} })
	_, tok := h.exchange(withResource(codeForm("k", ""), billingAPI), web)
	rt := tok["refresh_token"].(string)
	for _, api := range []string{ordersAPI, billingAPI, ordersAPI} {
		status, next := h.exchange(withResource(webRefresh(rt), api), web)
		if status != 200 {
			t.Fatalf("refresh for %s: %d %v", api, status, next)
		}
		rt = next["refresh_token"].(string)
	}
	if status, body := h.exchange(withResource(webRefresh(rt), spareAPI), web); status != 400 || body["error"] != "invalid_target" {
		t.Fatalf("after rotations, a resource not granted: %d %v", status, body)
	}
}

// TestIntrospectionByResourceServer: a client listed as a resource's
// introspecting client learns only of tokens for its resources, single and
// batch; one listed by none sees every token.
func TestIntrospectionByResourceServer(t *testing.T) {
	h, _, res := resourceSetup(t)
	orders := h.token("svc", "svc-secret", url.Values{"resource": {ordersAPI}})
	billing := h.token("svc", "svc-secret", url.Values{"resource": {billingAPI}})
	plain := h.token("svc", "svc-secret", nil)

	tests := []struct {
		name   string
		caller string
		tok    string
		active bool
	}{
		{"orders server, its token", "rs-orders", orders, true},
		{"orders server, billing's token", "rs-orders", billing, false},
		{"orders server, a token without resource", "rs-orders", plain, false},
		{"billing server, its token", "rs-billing", billing, true},
		{"billing server, orders' token", "rs-billing", orders, false},
		{"unlinked gateway, orders' token", "gw", orders, true},
		{"unlinked gateway, billing's token", "gw", billing, true},
		{"unlinked gateway, a token without resource", "gw", plain, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info := h.introspect(tc.caller, tc.caller+"-secret", tc.tok)
			if info["active"] != tc.active {
				t.Fatalf("active = %v, want %v (%v)", info["active"], tc.active, info)
			}
			if !tc.active && len(info) != 1 {
				t.Fatalf("an inactive answer says more than active: %v", info)
			}
		})
	}

	batch := func(caller string, toks ...string) []bool {
		b, _ := json.Marshal(map[string]any{"tokens": toks})
		w := h.do(http.MethodPost, httpapi.PathIntrospectBatch, "application/json", string(b), withBasic(caller, caller+"-secret"))
		if w.Code != 200 {
			t.Fatalf("batch: %d %s", w.Code, w.Body)
		}
		var out struct {
			Results []struct {
				Active bool `json:"active"`
			} `json:"results"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		got := make([]bool, len(out.Results))
		for i, r := range out.Results {
			got[i] = r.Active
		}
		return got
	}
	if got := batch("rs-orders", orders, billing, plain, orders); !equalBools(got, true, false, false, true) {
		t.Fatalf("batch by the orders server = %v", got)
	}
	if got := batch("gw", orders, billing, plain); !equalBools(got, true, true, true) {
		t.Fatalf("batch by the gateway = %v", got)
	}

	// A change reaches the caches at once: unlinking the orders server from
	// its resource lifts its restriction; linking the gateway to billing
	// imposes one.
	list, err := res.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range list {
		in := resource.InputOf(r)
		switch r.Indicator {
		case ordersAPI:
			in.IntrospectingClients = nil
		case billingAPI:
			in.IntrospectingClients = append(in.IntrospectingClients, "gw")
		default:
			continue
		}
		if _, err := res.Update(context.Background(), r.ID, in, resource.Caller{}); err != nil {
			t.Fatal(err)
		}
	}
	if got := batch("rs-orders", orders, billing); !equalBools(got, true, true) {
		t.Fatalf("after unlinking, batch by the orders server = %v", got)
	}
	if got := batch("gw", orders, billing); !equalBools(got, false, true) {
		t.Fatalf("after linking, batch by the gateway = %v", got)
	}
}

// TestResourceChangesReachTokens: a resource's new lifetime, and its
// deletion, apply to the next token at once (the cache is invalidated).
func TestResourceChangesReachTokens(t *testing.T) {
	h, _, res := resourceSetup(t)
	get := func() (int, map[string]any) {
		return h.exchange(ccForm(ordersAPI), withBasic("svc", "svc-secret"))
	}
	if status, body := get(); status != 200 || body["expires_in"] != 300.0 {
		t.Fatalf("before: %d %v", status, body)
	}
	list, _ := res.List(context.Background())
	var orders *store.Resource
	for _, r := range list {
		if r.Indicator == ordersAPI {
			orders = r
		}
	}
	in := resource.InputOf(orders)
	in.AccessTokenTTL = 60
	if _, err := res.Update(context.Background(), orders.ID, in, resource.Caller{}); err != nil {
		t.Fatal(err)
	}
	if status, body := get(); status != 200 || body["expires_in"] != 60.0 {
		t.Fatalf("after the update: %d %v", status, body)
	}
	if err := res.Delete(context.Background(), orders.ID, resource.Caller{}); err != nil {
		t.Fatal(err)
	}
	if status, body := get(); status != 400 || body["error"] != "invalid_target" {
		t.Fatalf("after the deletion: %d %v", status, body)
	}
	h.clock.Advance(time.Second)
}

func equalBools(got []bool, want ...bool) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}
