package interop

import (
	"net/http"
	"testing"
	"time"
)

// TestOAuth4WebAPIDPoP runs oauth4webapi v3, a strict client from outside the
// project, as a secretless agent: dynamic registration with an initial access
// token (RFC 7591), private_key_jwt (RFC 7523), a DPoP-bound token (RFC 9449)
// that a resource server built on oauth4webapi accepts from its holder and
// refuses from a thief, introspection that shows the binding, and a replayed
// assertion refused.
func TestOAuth4WebAPIDPoP(t *testing.T) {
	skipShort(t)
	t.Parallel()
	node := nodeScript(t, "oauth4webapi")
	a := startAuthd(t, nil)
	iat := a.adminDo(t, http.MethodPost, "/admin/registration-tokens", map[string]any{"max_uses": 1})
	rsID, rsSecret := a.createClient(t, map[string]any{"client_name": "resource server", "grant_types": []string{"client_credentials"}})

	var out struct {
		Registered struct {
			ClientID              string `json:"client_id"`
			HasSecret             bool   `json:"has_secret"`
			RegistrationClientURI string `json:"registration_client_uri"`
		} `json:"registered"`
		TokenType         string         `json:"token_type"`
		JWTCnf            map[string]any `json:"jwt_cnf"`
		Introspection     map[string]any `json:"introspection"`
		RSOwner           map[string]any `json:"rs_owner"`
		RSBearer          map[string]any `json:"rs_bearer"`
		RSThief           map[string]any `json:"rs_thief"`
		ReplayedAssertion any            `json:"replayed_assertion"`
		Error             string         `json:"error"`
	}
	runNode(t, node, 60*time.Second, "oauth4webapi-dpop.mjs", map[string]any{
		"issuer": a.public, "initial_access_token": iat["token"], "rs_client_id": rsID, "rs_client_secret": rsSecret,
	}, &out)
	if out.Error != "" {
		t.Fatalf("oauth4webapi: %s", out.Error)
	}
	if out.Registered.ClientID == "" || out.Registered.HasSecret || out.Registered.RegistrationClientURI == "" {
		t.Errorf("registration: %+v (a private_key_jwt client gets no secret)", out.Registered)
	}
	if out.TokenType != "dpop" { // oauth4webapi lower-cases token_type
		t.Errorf("token_type %q, want DPoP", out.TokenType)
	}
	if out.RSOwner["ok"] != true || out.JWTCnf["jkt"] == nil {
		t.Errorf("resource server refused the holder: %v", out.RSOwner)
	}
	if out.RSBearer["ok"] != false || out.RSThief["ok"] != false {
		t.Errorf("a stolen DPoP-bound token was accepted: as Bearer %v, with another key %v", out.RSBearer, out.RSThief)
	}
	if cnf, _ := out.Introspection["cnf"].(map[string]any); out.Introspection["active"] != true || cnf["jkt"] != out.JWTCnf["jkt"] ||
		out.Introspection["token_type"] != "DPoP" {
		t.Errorf("introspection %v, want active, token_type DPoP, cnf.jkt %v", out.Introspection, out.JWTCnf["jkt"])
	}
	if r, ok := out.ReplayedAssertion.(map[string]any); !ok || r["error"] != "invalid_client" {
		t.Errorf("replayed client assertion: %v, want invalid_client", out.ReplayedAssertion)
	}
	t.Logf("oauth4webapi: registered %s, %s token, cnf %v; thief refused: %v / %v", out.Registered.ClientID, out.TokenType, out.JWTCnf, out.RSBearer["error"], out.RSThief["error"])
}
