package login

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/authd/authd/internal/oauth"
)

const (
	apiA = "https://api.example/a"
	apiB = "urn:example:b"
)

// fakeResources knows apiA and apiB; client "first" may ask only for apiA.
type fakeResources struct{}

func (fakeResources) CheckResources(_ context.Context, c *oauth.Client, in []string) ([]string, error) {
	for _, r := range in {
		if r != apiA && r != apiB {
			return nil, oauth.InvalidTarget("resource is not registered")
		}
		if c.ID == "first" && r != apiA {
			return nil, oauth.InvalidTarget("the client may not ask for it")
		}
	}
	return slices.Compact(slices.Sorted(slices.Values(in))), nil
}

func withResources(p url.Values, rs ...string) url.Values {
	p[pResource] = rs
	return p
}

// TestAuthorizeResourceErrors: resources that are malformed, unknown or not
// allowed are refused with invalid_target at the redirect URI, with state
// and iss (RFC 8707 §2, RFC 9207).
func TestAuthorizeResourceErrors(t *testing.T) {
	e := newEnvWith(t, testIssuer, func(d *Deps) { d.Resources = fakeResources{} })
	none := newEnv(t, testIssuer) // no resource is registered
	many := make([]string, 11)
	for i := range many {
		many[i] = apiA
	}
	tests := []struct {
		name   string
		env    *env
		params url.Values
		base   string
	}{
		{"unknown", e, withResources(authParams("web"), "https://unknown.example/"), ""},
		{"one of two unknown", e, withResources(authParams("web"), apiA, "https://unknown.example/"), ""},
		{"relative", e, withResources(authParams("web"), "/api"), ""},
		{"a fragment", e, withResources(authParams("web"), apiA+"#x"), ""},
		{"too many", e, withResources(authParams("web"), many...), ""},
		{"not allowed to the client", e, withResources(authParams("first"), apiB), "https://first.example/callback"},
		{"no resources registered", none, withResources(authParams("web"), apiA), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := tc.base
			if base == "" {
				base = "https://app.example/cb"
			}
			r := tc.env.authorize(tc.env.client, tc.params)
			wantRedirect(t, r, http.StatusFound, base, map[string]string{
				"error": oauth.CodeInvalidTarget, "error_description": "*", "state": "st-123", "code": "",
			})
		})
	}
}

// TestAuthorizeResourcesReachTheCode: the resources asked for travel
// through the login and consent forms and the code remembers them (RFC
// 8707 §2.1), for the token endpoint to narrow to one.
func TestAuthorizeResourcesReachTheCode(t *testing.T) {
	e := newEnvWith(t, testIssuer, func(d *Deps) { d.Resources = fakeResources{} })
	page := e.authorize(e.client, withResources(authParams("web"), apiB, apiA, apiB))
	if got := formOf(t, page.body)[pResource]; !slices.Equal(got, []string{apiA, apiB}) {
		t.Fatalf("login form carries resources %q", got)
	}
	r := e.login(e.client, page, "alice", testPassword)
	if !strings.Contains(r.body, "Allow access") {
		t.Fatalf("no consent page: %d %s", r.status, r.body)
	}
	// The user sees which APIs the access is for.
	if !strings.Contains(r.body, "<strong>"+apiA+"</strong>, <strong>"+apiB+"</strong>") {
		t.Errorf("the consent page does not name the resources:\n%s", r.body)
	}
	f := formOf(t, r.body)
	if got := f[pResource]; !slices.Equal(got, []string{apiA, apiB}) {
		t.Fatalf("consent form carries resources %q", got)
	}
	f.Set("decision", "approve")
	r = e.post(e.client, PathConsent, f)
	q := wantRedirect(t, r, http.StatusSeeOther, "https://app.example/cb", map[string]string{"code": "*", "error": ""})
	c, err := e.db.RedeemAuthCode(context.Background(), hashToken(q.Get("code")), e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Resources, []string{apiA, apiB}) {
		t.Fatalf("code resources = %q", c.Resources)
	}

	// Without resource, the code has none, as before (the session is open).
	r = e.authorize(e.client, authParams("first"))
	q = wantRedirect(t, r, http.StatusFound, "https://first.example/callback", map[string]string{"code": "*"})
	if c, err := e.db.RedeemAuthCode(context.Background(), hashToken(q.Get("code")), e.clock.Now()); err != nil || c.Resources != nil {
		t.Fatalf("code without resource: %+v %v", c, err)
	}
}

func FuzzParseResources(f *testing.F) {
	for _, s := range []string{"resource=https%3A%2F%2Fa%2F", "resource=a&resource=b", "resource=%23", "resource="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		req := &authRequest{params: url.Values{}}
		if err := parseResources(req, v); err != nil {
			if e, ok := oauth.As(err); !ok || e.Code != oauth.CodeInvalidTarget {
				t.Fatalf("error %v is not invalid_target", err)
			}
			return
		}
		if len(req.Resources) > maxResources || !slices.Equal(req.Resources, req.params[pResource]) {
			t.Fatalf("resources %q, carried %q", req.Resources, req.params[pResource])
		}
		for _, r := range req.Resources {
			if oauth.ResourceIndicatorProblem(r) != "" {
				t.Fatalf("accepted %q", r)
			}
		}
	})
}
