package interop

import (
	"net/http"
	"testing"
	"time"
)

// TestOAuth4WebAPITokenExchange: a service written with oauth4webapi v3
// exchanges another service's token, with its own as the actor token, for
// a token for an API (RFC 8693 with audience); the API's resource server on
// the same library accepts it as an RFC 9068 access token for its aud and
// sees who acts (act, §4.1). A bad subject_token is invalid_request.
func TestOAuth4WebAPITokenExchange(t *testing.T) {
	skipShort(t)
	t.Parallel()
	node := nodeScript(t, "oauth4webapi")
	a := startAuthd(t, nil)
	const api = "https://api.example.com/orders"
	a.adminDo(t, http.MethodPost, "/admin/resources", map[string]any{"resource": api, "scope": "read"})
	grants := []string{"client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange"}
	aID, aSecret := a.createClient(t, map[string]any{"client_name": "service-a", "grant_types": grants, "scope": "read"})
	bID, bSecret := a.createClient(t, map[string]any{"client_name": "service-b", "grant_types": grants, "scope": "read"})

	var out struct {
		IssuedTokenType string         `json:"issued_token_type"`
		TokenType       string         `json:"token_type"`
		Claims          map[string]any `json:"claims"`
		BadSubject      any            `json:"bad_subject"`
		Error           string         `json:"error"`
	}
	runNode(t, node, 60*time.Second, "oauth4webapi-token-exchange.mjs", map[string]any{
		"issuer": a.public, "a_id": aID, "a_secret": aSecret, "b_id": bID, "b_secret": bSecret, "api": api,
	}, &out)
	if out.Error != "" {
		t.Fatalf("oauth4webapi: %s", out.Error)
	}
	act, _ := out.Claims["act"].(map[string]any)
	if out.IssuedTokenType != "urn:ietf:params:oauth:token-type:access_token" || (out.TokenType != "bearer" && out.TokenType != "Bearer") ||
		out.Claims["sub"] != bID || out.Claims["aud"] != api || out.Claims["client_id"] != aID || act["sub"] != aID {
		t.Errorf("exchanged token: %+v", out)
	}
	if r, ok := out.BadSubject.(map[string]any); !ok || r["error"] != "invalid_request" {
		t.Errorf("bad subject_token: %v, want invalid_request", out.BadSubject)
	}
}
