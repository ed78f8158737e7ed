package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// pollResult is what a polling device ends with: tokens or a final error.
type pollResult struct {
	status int
	body   map[string]any
	polls  int
}

// pollDevice polls the token endpoint as RFC 8628 §3.5 tells a device to:
// every interval seconds, 5 more after each slow_down, until tokens or an
// error other than authorization_pending and slow_down. The wait between
// polls is the protocol's, not the test's synchronisation (that is the
// channel).
func pollDevice(s *server, clientID, deviceCode string, interval time.Duration) <-chan pollResult {
	out := make(chan pollResult, 1)
	go func() {
		form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
			"device_code": {deviceCode}, "client_id": {clientID}}
		for n := 1; ; n++ {
			resp, err := http.PostForm(s.public+"/oauth2/token", form)
			if err != nil {
				out <- pollResult{status: -1, body: map[string]any{"error": err.Error()}, polls: n}
				return
			}
			var m map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&m)
			resp.Body.Close()
			switch m["error"] {
			case "slow_down":
				interval += 5 * time.Second
				fallthrough
			case "authorization_pending":
				if n < 100 {
					<-time.After(interval)
					continue
				}
			}
			out <- pollResult{status: resp.StatusCode, body: m, polls: n}
			return
		}
	}()
	return out
}

// TestDeviceFlow: a device asks for a code; a person opens the verification
// link in a browser, signs in, checks the code and approves (or denies),
// while the device polls; the device's tokens then work at userinfo.
func TestDeviceFlow(t *testing.T) {
	s := startServer(t, map[string]string{"AUTHD_ARGON2_MEMORY_KIB": "8192", "AUTHD_ARGON2_TIME": "1",
		"AUTHD_DEVICE_POLL_INTERVAL": "1s"})
	createUser(t, s, "alice", "correct horse battery staple")
	var tv map[string]any
	if err := json.Unmarshal(s.cli(t, "client", "create", "--name", "Living Room TV", "--auth-method", "none",
		"--grant-types", "urn:ietf:params:oauth:grant-type:device_code,refresh_token",
		"--scope", "openid profile email"), &tv); err != nil {
		t.Fatal(err)
	}
	clientID := tv["client_id"].(string)

	var meta map[string]any
	resp, err := http.Get(s.public + "/.well-known/oauth-authorization-server")
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(resp.Body).Decode(&meta)
	resp.Body.Close()
	endpoint, _ := meta["device_authorization_endpoint"].(string)
	if iss, _ := meta["issuer"].(string); endpoint != iss+"/oauth2/device_authorization" {
		t.Fatalf("device_authorization_endpoint = %q", endpoint)
	}

	for _, tc := range []struct {
		name, decision, wantPage, wantErr string
	}{
		{"approve", "approve", "Device connected", ""},
		{"deny", "deny", "Device not allowed", "access_denied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.PostForm(endpoint, url.Values{"client_id": {clientID}, "scope": {"openid profile"}})
			if err != nil {
				t.Fatal(err)
			}
			var da map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&da)
			resp.Body.Close()
			if resp.StatusCode != 200 || da["interval"] != float64(1) {
				t.Fatalf("device authorization: %d %v", resp.StatusCode, da)
			}
			polled := pollDevice(s, clientID, da["device_code"].(string), time.Second)

			br := newBrowser(t)
			// The link signs the person in first and comes back to the page
			// with the code filled in, approving nothing yet.
			res, page := br.get(da["verification_uri_complete"].(string))
			if res.StatusCode != 200 || !strings.Contains(page, `name="password"`) {
				t.Fatalf("verification link did not ask to sign in: %d\n%s", res.StatusCode, page)
			}
			form := hiddenFields(page)
			form.Set("username", "alice")
			form.Set("password", "correct horse battery staple")
			res, page = br.post(s.public+"/login", form)
			userCode := da["user_code"].(string)
			if res.StatusCode != 200 || !strings.Contains(page, `value="`+userCode+`"`) {
				t.Fatalf("after sign-in: %d %s\n%s", res.StatusCode, res.Request.URL, page)
			}
			form = hiddenFields(page)
			form.Set("user_code", userCode)
			res, page = br.post(s.public+"/device", form)
			if res.StatusCode != 200 || !strings.Contains(page, "Living Room TV") || !strings.Contains(page, userCode) {
				t.Fatalf("confirmation: %d\n%s", res.StatusCode, page)
			}
			form = hiddenFields(page)
			form.Set("decision", tc.decision)
			if res, page = br.post(s.public+"/device", form); res.StatusCode != 200 || !strings.Contains(page, tc.wantPage) {
				t.Fatalf("decision: %d\n%s", res.StatusCode, page)
			}

			got := <-polled
			if tc.wantErr != "" {
				if got.status != 400 || got.body["error"] != tc.wantErr {
					t.Fatalf("device after %s: %d %v", tc.decision, got.status, got.body)
				}
				return
			}
			if got.status != 200 || got.body["id_token"] == nil || got.body["refresh_token"] == nil {
				t.Fatalf("device after approval: %d %v (after %d polls)", got.status, got.body, got.polls)
			}
			req, _ := http.NewRequest(http.MethodGet, s.public+"/oauth2/userinfo", nil)
			req.Header.Set("Authorization", "Bearer "+got.body["access_token"].(string))
			ui, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var info map[string]any
			_ = json.NewDecoder(ui.Body).Decode(&info)
			ui.Body.Close()
			if ui.StatusCode != 200 || info["preferred_username"] != "alice" {
				t.Fatalf("userinfo with the device's token: %d %v", ui.StatusCode, info)
			}
			// The device code is spent.
			if status, body := tokenRequest(t, s, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
				"device_code": {da["device_code"].(string)}, "client_id": {clientID}}); status != 400 || body["error"] != "invalid_grant" {
				t.Fatalf("second redemption: %d %v", status, body)
			}
		})
	}
}
