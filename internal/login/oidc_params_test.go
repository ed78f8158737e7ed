package login

import (
	"net/http"
	"strings"
	"testing"
)

// TestParseClaims: the claims parameter (OpenID Connect Core §5.5) is a
// JSON object of userinfo and id_token requests; what is malformed is
// invalid_request, the sub value and an essential acr are read, and the rest
// is accepted.
func TestParseClaims(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
		sub      string
		acr      []string
	}{
		{"absent", "", true, "", nil},
		{"both members", `{"userinfo":{"email":null,"phone_number":{"essential":true}},"id_token":{"auth_time":{"essential":true}}}`, true, "", nil},
		{"sub value", `{"id_token":{"sub":{"value":"u-1"}}}`, true, "u-1", nil},
		{"essential acr values", `{"id_token":{"acr":{"essential":true,"values":["2","1"]}}}`, true, "", []string{"2", "1"}},
		{"voluntary acr", `{"id_token":{"acr":{"values":["2"]}}}`, true, "", nil},
		{"unknown members ignored", `{"id_token":null,"other":[1]}`, true, "", nil},
		{"not JSON", `{"id_token":`, false, "", nil},
		{"not an object", `[1]`, false, "", nil},
		{"id_token not an object", `{"id_token":"email"}`, false, "", nil},
		{"a claim spec not an object", `{"userinfo":{"email":true}}`, false, "", nil},
		{"sub value not a string", `{"id_token":{"sub":{"value":7}}}`, false, "", nil},
		{"acr values not strings", `{"id_token":{"acr":{"essential":true,"values":[2]}}}`, false, "", nil},
		{"too long", `{"userinfo":{"` + strings.Repeat("x", maxClaimsBytes) + `":null}}`, false, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseClaims(tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("err %v, want ok %v", err, tc.ok)
			}
			if err != nil || c == nil {
				return
			}
			if c.sub != tc.sub || strings.Join(c.acr, ",") != strings.Join(tc.acr, ",") {
				t.Errorf("got sub %q acr %v", c.sub, c.acr)
			}
		})
	}
}

func FuzzParseClaims(f *testing.F) {
	for _, s := range []string{`{"id_token":{"sub":{"value":"u"},"acr":{"essential":true,"values":["1"]}}}`, `{"userinfo":{"email":null}}`, `{}`, `[`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseClaims(s)
		if err == nil && s != "" && c == nil {
			t.Fatalf("accepted %q without a request", s)
		}
		if err == nil && c != nil && c.checkACR() != nil && len(c.acr) == 0 {
			t.Fatalf("an empty essential acr list refused: %q", s)
		}
	})
}

// TestRequestForAUser: id_token_hint (§3.1.2.1) naming someone other than
// the signed-in user makes them sign in again; prompt=none then is
// login_required; a hint that is not authd's id_token is invalid_request; the
// claims sub value must be met; an essential acr authd cannot give is
// access_denied before anyone signs in; display and ui_locales are accepted.
func TestRequestForAUser(t *testing.T) {
	e := newEnv(t, testIssuer)
	e.signIn(e.client)
	alice := e.idToken(nil)
	bob := e.idToken(func(c map[string]any) { c["sub"] = "someone-else" })

	r := e.authorize(e.client, authParams("first", "id_token_hint", alice, "display", "popup", "ui_locales", "fr-CA en",
		"claims_locales", "fr", "x_vendor_extension", "ignored"))
	wantRedirect(t, r, http.StatusFound, "https://first.example/callback", map[string]string{"code": "*"})

	wantPage(t, e.authorize(e.client, authParams("first", "id_token_hint", bob)), http.StatusOK, `name="password"`)
	wantRedirect(t, e.authorize(e.client, authParams("first", "id_token_hint", bob, "prompt", "none")), http.StatusFound,
		"https://first.example/callback", map[string]string{"error": "login_required"})
	wantRedirect(t, e.authorize(e.client, authParams("first", "id_token_hint", "not.a.token")), http.StatusFound,
		"https://first.example/callback", map[string]string{"error": "invalid_request"})

	claims := func(v string) string { return `{"id_token":{"sub":{"value":"` + v + `"}}}` }
	wantRedirect(t, e.authorize(e.client, authParams("first", "claims", claims(e.alice.ID))), http.StatusFound,
		"https://first.example/callback", map[string]string{"code": "*"})
	page := e.authorize(e.client, authParams("first", "claims", claims("someone-else")))
	wantPage(t, page, http.StatusOK, `name="password"`)
	// Signing in as alice does not make her someone-else.
	wantRedirect(t, e.login(e.client, page, "alice", testPassword), http.StatusSeeOther,
		"https://first.example/callback", map[string]string{"error": "login_required"})

	wantRedirect(t, e.authorize(e.client, authParams("first", "claims", `{"id_token":{"acr":{"essential":true,"values":["3"]}}}`)),
		http.StatusFound, "https://first.example/callback", map[string]string{"error": "access_denied"})
	wantRedirect(t, e.authorize(e.client, authParams("first", "claims", `{"id_token":{"acr":{"essential":true,"value":"1"}}}`, "acr_values", "1 2")),
		http.StatusFound, "https://first.example/callback", map[string]string{"code": "*"})
}
