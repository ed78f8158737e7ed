package interop

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestOAuth4WebAPIDevice runs the device authorization grant (RFC 8628)
// with a device written on oauth4webapi v3: it finds the endpoint in the
// metadata, gets its codes (oauth4webapi checks the response's shape) and is
// told authorization_pending; a person opens the verification link, signs
// in, checks the code and approves on authd's page; the device's next polls
// get tokens with an id_token oauth4webapi validates.
func TestOAuth4WebAPIDevice(t *testing.T) {
	skipShort(t)
	t.Parallel()
	node := nodeScript(t, "oauth4webapi")
	a := startAuthd(t, map[string]string{"AUTHD_DEVICE_POLL_INTERVAL": "1s"})
	bobID := a.createUser(t, "bob", "another fine passphrase", "bob@example.com", true)
	id, _ := a.createClient(t, map[string]any{
		"client_name":                "TV app on oauth4webapi",
		"grant_types":                []string{"urn:ietf:params:oauth:grant-type:device_code", "refresh_token"},
		"scope":                      "openid profile",
		"token_endpoint_auth_method": "none",
	})

	var start struct {
		DeviceCode              string  `json:"device_code"`
		UserCode                string  `json:"user_code"`
		VerificationURI         string  `json:"verification_uri"`
		VerificationURIComplete string  `json:"verification_uri_complete"`
		ExpiresIn               float64 `json:"expires_in"`
		Interval                float64 `json:"interval"`
		Pending                 string  `json:"pending"`
		Error                   string  `json:"error"`
	}
	runNode(t, node, 30*time.Second, "oauth4webapi-device.mjs", map[string]any{"phase": "start", "issuer": a.public, "id": id}, &start)
	if start.Error != "" {
		t.Fatalf("oauth4webapi: %s\nauthd:\n%s", start.Error, a.logs)
	}
	if start.VerificationURI != a.public+"/device" || start.Interval != 1 || start.ExpiresIn != 600 || start.Pending != "authorization_pending" {
		t.Fatalf("start: %+v", start)
	}

	br := newBrowser(t)
	resp, page := br.get(start.VerificationURIComplete)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `name="password"`) {
		t.Fatalf("the verification link did not ask to sign in: %d\n%s", resp.StatusCode, page)
	}
	login := formTo(t, page, "/login")
	login.fields.Set("username", "bob")
	login.fields.Set("password", "another fine passphrase")
	if resp, page = br.submit(resp.Request.URL, login); resp.StatusCode != http.StatusOK || !strings.Contains(page, start.UserCode) {
		t.Fatalf("after signing in: %d at %s\n%s", resp.StatusCode, resp.Request.URL, page)
	}
	// The page filled the code in from the link; the person submits it.
	code := formTo(t, page, "/device")
	code.fields.Set("user_code", start.UserCode)
	if resp, page = br.submit(resp.Request.URL, code); resp.StatusCode != http.StatusOK || !strings.Contains(page, "TV app on oauth4webapi") {
		t.Fatalf("confirmation: %d\n%s", resp.StatusCode, page)
	}
	if !hasButton(page, "decision", "approve") {
		t.Fatalf("no approve button:\n%s", page)
	}
	approve := formTo(t, page, "/device")
	approve.fields.Set("decision", "approve")
	if resp, page = br.submit(resp.Request.URL, approve); resp.StatusCode != http.StatusOK || !strings.Contains(page, "Device connected") {
		t.Fatalf("approval: %d\n%s", resp.StatusCode, page)
	}

	var fin struct {
		TokenType string         `json:"token_type"`
		Scope     string         `json:"scope"`
		Refresh   bool           `json:"refresh"`
		Claims    map[string]any `json:"claims"`
		Error     string         `json:"error"`
	}
	runNode(t, node, 60*time.Second, "oauth4webapi-device.mjs", map[string]any{"phase": "finish", "issuer": a.public, "id": id,
		"device_code": start.DeviceCode, "interval": start.Interval}, &fin)
	if fin.Error != "" {
		t.Fatalf("oauth4webapi: %s\nauthd:\n%s", fin.Error, a.logs)
	}
	if fin.TokenType != "bearer" || !fin.Refresh || fin.Scope != "openid profile" || fin.Claims["sub"] != bobID || fin.Claims["aud"] != id {
		t.Fatalf("tokens: %+v", fin)
	}
}
