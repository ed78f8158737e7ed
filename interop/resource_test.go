package interop

import (
	"net/http"
	"testing"
	"time"
)

// TestOAuth4WebAPIResourceIndicators: a client written with oauth4webapi v3
// asks for a token for one API (RFC 8707 resource), and a resource server on
// the same library accepts it as an RFC 9068 access token with that aud; a
// token without resource, or for another API, is refused there, and an
// unknown resource is invalid_target.
func TestOAuth4WebAPIResourceIndicators(t *testing.T) {
	skipShort(t)
	t.Parallel()
	node := nodeScript(t, "oauth4webapi")
	a := startAuthd(t, nil)
	const api, other = "https://api.example.com/orders", "urn:example:billing"
	a.adminDo(t, http.MethodPost, "/admin/resources", map[string]any{"resource": api, "scope": "orders:read"})
	a.adminDo(t, http.MethodPost, "/admin/resources", map[string]any{"resource": other, "scope": "bill"})
	id, secret := a.createClient(t, map[string]any{"client_name": "service", "grant_types": []string{"client_credentials"},
		"scope": "orders:read bill read"})

	var out struct {
		TokenScope      string         `json:"token_scope"`
		Own             map[string]any `json:"own"`
		WithoutResource map[string]any `json:"without_resource"`
		ForOther        map[string]any `json:"for_other"`
		BadTarget       any            `json:"bad_target"`
		Error           string         `json:"error"`
	}
	runNode(t, node, 60*time.Second, "oauth4webapi-resource.mjs", map[string]any{
		"issuer": a.public, "client_id": id, "client_secret": secret, "resource": api, "other": other,
	}, &out)
	if out.Error != "" {
		t.Fatalf("oauth4webapi: %s", out.Error)
	}
	if out.Own["ok"] != true || out.Own["aud"] != api || out.TokenScope != "orders:read" {
		t.Errorf("the API's server refused its token: %v (scope %q)", out.Own, out.TokenScope)
	}
	if out.WithoutResource["ok"] != false || out.ForOther["ok"] != false {
		t.Errorf("the API's server accepted a token not for it: without resource %v, for another %v", out.WithoutResource, out.ForOther)
	}
	if r, ok := out.BadTarget.(map[string]any); !ok || r["error"] != "invalid_target" {
		t.Errorf("unknown resource: %v, want invalid_target", out.BadTarget)
	}
}
