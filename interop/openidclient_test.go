package interop

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestOpenIDClient runs openid-client v6 as a confidential client of each
// authentication method and token format: discovery, client_credentials,
// introspection, revocation; jose verifies the JWT access token as a resource
// server would (RFC 9068); a wrong secret gets invalid_client.
func TestOpenIDClient(t *testing.T) {
	skipShort(t)
	t.Parallel()
	node := nodeScript(t, "openid-client", "jose")
	a := startAuthd(t, nil)

	type client struct {
		Name   string `json:"name"`
		ID     string `json:"id"`
		Secret string `json:"secret"`
		Auth   string `json:"auth"`
		Format string `json:"format"`
	}
	clients := []client{
		{Name: "basic-jwt", Auth: "basic", Format: "jwt"},
		{Name: "post-opaque", Auth: "post", Format: "opaque"},
	}
	for i := range clients {
		c := &clients[i]
		c.ID, c.Secret = a.createClient(t, map[string]any{
			"client_name":                c.Name,
			"grant_types":                []string{"client_credentials"},
			"scope":                      "read write",
			"token_endpoint_auth_method": "client_secret_" + c.Auth,
			"access_token_format":        c.Format,
		})
	}

	var out struct {
		Results []struct {
			Name            string         `json:"name"`
			TokenType       string         `json:"token_type"`
			Scope           string         `json:"scope"`
			ExpiresIn       float64        `json:"expires_in"`
			JWT             *jwtParts      `json:"jwt"`
			Introspection   map[string]any `json:"introspection"`
			AfterRevocation map[string]any `json:"after_revocation"`
			WrongSecret     map[string]any `json:"wrong_secret"`
			Error           string         `json:"error"`
		} `json:"results"`
	}
	runNode(t, node, 60*time.Second, "openid-client.mjs", map[string]any{"issuer": a.public, "clients": clients}, &out)
	if len(out.Results) != len(clients) {
		t.Fatalf("results for %d clients, want %d: %+v", len(out.Results), len(clients), out)
	}
	for i, r := range out.Results {
		c := clients[i]
		t.Run(c.Name, func(t *testing.T) {
			if r.Error != "" {
				t.Fatalf("openid-client: %s\nauthd:\n%s", r.Error, a.logs)
			}
			if r.TokenType != "bearer" || r.Scope != "read" || r.ExpiresIn <= 0 {
				t.Errorf("token response: type %q, scope %q, expires in %v", r.TokenType, r.Scope, r.ExpiresIn)
			}
			if c.Format == "jwt" {
				if r.JWT == nil || r.JWT.Payload["client_id"] != c.ID || r.JWT.Payload["iss"] != a.public || r.JWT.Header["typ"] != "at+jwt" {
					t.Errorf("JWT access token as jose verified it: %+v", r.JWT)
				}
			} else if r.JWT != nil {
				t.Errorf("an opaque token was verified as a JWT: %+v", r.JWT)
			}
			in := r.Introspection
			if in["active"] != true || in["client_id"] != c.ID || in["scope"] != "read" || in["token_type"] == "" {
				t.Errorf("introspection: %v", in)
			}
			if r.AfterRevocation["active"] != false || len(r.AfterRevocation) != 1 {
				t.Errorf("introspection after revocation: %v, want only active false (RFC 7662 §2.2)", r.AfterRevocation)
			}
			// RFC 6749 §5.2: 401 for a failed client authentication, with a
			// challenge of the scheme the client used in Authorization.
			ws := r.WrongSecret
			wantName, wantChallenge := "ResponseBodyError", ""
			if c.Auth == "basic" {
				wantName, wantChallenge = "WWWAuthenticateChallengeError", `Basic realm="authd"`
			}
			if ws["error"] != "invalid_client" || ws["status"] != float64(401) || ws["name"] != wantName ||
				(wantChallenge != "" && !strings.HasPrefix(fmt.Sprint(ws["www_authenticate"]), wantChallenge)) {
				b, _ := json.Marshal(ws)
				t.Errorf("wrong secret: %s, want invalid_client, 401, %s, challenge %q", b, wantName, wantChallenge)
			}
		})
	}
}

type jwtParts struct {
	Header  map[string]any `json:"header"`
	Payload map[string]any `json:"payload"`
}
