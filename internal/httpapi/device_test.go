package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/internal/device"
	"github.com/authd/authd/internal/httpapi"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/store"
)

func withDevice(c *harnessConfig) { c.device = true }

// deviceSetup is a harness serving the device grant to "tv" (public) and
// "box" (confidential), and alice to approve their requests.
func deviceSetup(t *testing.T, configure ...func(*harnessConfig)) (*harness, *store.User) {
	t.Helper()
	h, u := userSetup(t, append([]func(*harnessConfig){withDevice}, configure...)...)
	h.addClient("tv", "", func(c *oauth.Client) {
		c.TokenEndpointAuthMethod = oauth.AuthMethodNone
		c.GrantTypes = []string{oauth.GrantDeviceCode, oauth.GrantRefreshToken}
		c.Scopes = []string{"openid", "profile", "read"}
	})
	h.addClient("box", "box-secret", func(c *oauth.Client) {
		c.GrantTypes = []string{oauth.GrantDeviceCode}
		c.Scopes = []string{"read"}
		c.AccessTokenFormat = oauth.FormatOpaque
	})
	return h, u
}

// authorizeDevice asks the device authorization endpoint and returns its answer.
func (h *harness) authorizeDevice(form url.Values, opts ...reqOpt) (int, map[string]any) {
	h.t.Helper()
	w := h.postForm(httpapi.PathDeviceAuthorization, form, opts...)
	return w.Code, decodeJSON(h.t, w.Body.Bytes())
}

// decideDevice records a decision on the request with that user code, as
// the verification page would.
func (h *harness) decideDevice(userCode string, d store.DeviceDecision) {
	h.t.Helper()
	n, ok := device.Normalize(userCode)
	if !ok {
		h.t.Fatalf("user code %q does not normalise", userCode)
	}
	if _, err := h.db.DecideDeviceAuthorization(context.Background(), h.userCodes.Hash(n), d, h.clock.Now()); err != nil {
		h.t.Fatal(err)
	}
}

func approval(u *store.User, at time.Time) store.DeviceDecision {
	return store.DeviceDecision{Status: store.DeviceApproved, Subject: u.ID, AuthTime: at, UserGeneration: u.Generation}
}

func pollForm(clientID, deviceCode string) url.Values {
	return url.Values{"grant_type": {oauth.GrantDeviceCode}, "device_code": {deviceCode}, "client_id": {clientID}}
}

func wantOAuthError(t *testing.T, what string, status int, body map[string]any, wantStatus int, wantErr string) {
	t.Helper()
	if status != wantStatus || body["error"] != wantErr {
		t.Fatalf("%s: %d %v, want %d %s", what, status, body, wantStatus, wantErr)
	}
}

func TestDeviceAuthorizationResponse(t *testing.T) {
	h, _ := deviceSetup(t)
	status, resp := h.authorizeDevice(url.Values{"client_id": {"tv"}, "scope": {"openid read"}})
	if status != http.StatusOK {
		t.Fatalf("device authorization: %d %v", status, resp)
	}
	code, _ := resp["user_code"].(string)
	if n, ok := device.Normalize(code); !ok || device.Format(n) != code {
		t.Fatalf("user_code %q is not XXXX-XXXX of the §6.1 alphabet", code)
	}
	if dc, _ := resp["device_code"].(string); len(dc) < 43 {
		t.Fatalf("device_code %q is shorter than 256 bits", dc)
	}
	if resp["verification_uri"] != issuer+"/device" ||
		resp["verification_uri_complete"] != issuer+"/device?user_code="+code ||
		resp["expires_in"] != float64(600) || resp["interval"] != float64(5) {
		t.Fatalf("device authorization response %v", resp)
	}
	// RFC 8414 metadata names the endpoint (RFC 8628 §4), and the grant.
	w := h.do(http.MethodGet, "/.well-known/oauth-authorization-server", "", "")
	m := decodeJSON(t, w.Body.Bytes())
	grants, _ := m["grant_types_supported"].([]any)
	found := false
	for _, g := range grants {
		found = found || g == oauth.GrantDeviceCode
	}
	if m["device_authorization_endpoint"] != issuer+httpapi.PathDeviceAuthorization || !found {
		t.Fatalf("metadata: endpoint %v, grants %v", m["device_authorization_endpoint"], grants)
	}
}

func TestDeviceAuthorizationErrors(t *testing.T) {
	h, _ := deviceSetup(t)
	tests := []struct {
		name       string
		form       url.Values
		opts       []reqOpt
		wantStatus int
		wantErr    string
	}{
		{"client not registered for the grant", url.Values{"client_id": {"spa"}}, nil, 400, oauth.CodeUnauthorizedClient},
		{"unknown client", url.Values{"client_id": {"nobody"}}, nil, 401, oauth.CodeInvalidClient},
		{"no client", url.Values{"scope": {"read"}}, nil, 401, oauth.CodeInvalidClient},
		{"confidential client without its secret", url.Values{"client_id": {"box"}}, nil, 401, oauth.CodeInvalidClient},
		{"confidential client, wrong secret", url.Values{}, []reqOpt{withBasic("box", "nope")}, 401, oauth.CodeInvalidClient},
		{"scope not allowed", url.Values{"client_id": {"tv"}, "scope": {"admin"}}, nil, 400, oauth.CodeInvalidScope},
		{"unregistered resource", url.Values{"client_id": {"tv"}, "resource": {"https://api.example/"}}, nil, 400, oauth.CodeInvalidTarget},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := h.authorizeDevice(tc.form, tc.opts...)
			wantOAuthError(t, "device authorization", status, body, tc.wantStatus, tc.wantErr)
		})
	}
	if status, body := h.authorizeDevice(url.Values{}, withBasic("box", "box-secret")); status != 200 {
		t.Fatalf("confidential client with its secret: %d %v", status, body)
	}
}

// TestDeviceGrantPolling walks RFC 8628 §3.4 and §3.5: pending, slow_down
// with a growing interval, another client's poll refused, tokens once after
// approval, invalid_grant after.
func TestDeviceGrantPolling(t *testing.T) {
	h, u := deviceSetup(t)
	h.addClient("tv2", "", func(c *oauth.Client) {
		c.TokenEndpointAuthMethod = oauth.AuthMethodNone
		c.GrantTypes = []string{oauth.GrantDeviceCode}
		c.Scopes = []string{"openid", "read"}
	})
	_, resp := h.authorizeDevice(url.Values{"client_id": {"tv"}, "scope": {"openid read"}})
	dc, uc := resp["device_code"].(string), resp["user_code"].(string)

	steps := []struct {
		name       string
		advance    time.Duration
		client     string
		wantStatus int
		wantErr    string
		wantDesc   string
	}{
		{"first poll", 0, "tv", 400, oauth.CodeAuthorizationPending, ""},
		{"too soon", time.Second, "tv", 400, oauth.CodeSlowDown, "10 seconds"},
		// §3.5: the interval grew by 5 s for every later poll.
		{"too soon for the grown interval", 9 * time.Second, "tv", 400, oauth.CodeSlowDown, "15 seconds"},
		{"on time", 15 * time.Second, "tv", 400, oauth.CodeAuthorizationPending, ""},
		{"another client's device code", 15 * time.Second, "tv2", 400, oauth.CodeInvalidGrant, ""},
		{"on time again: the other client's poll changed nothing", 0, "tv", 400, oauth.CodeAuthorizationPending, ""},
	}
	for _, s := range steps {
		h.clock.Advance(s.advance)
		status, body := h.exchange(pollForm(s.client, dc))
		wantOAuthError(t, s.name, status, body, s.wantStatus, s.wantErr)
		if desc, _ := body["error_description"].(string); !strings.Contains(desc, s.wantDesc) {
			t.Fatalf("%s: error_description %q lacks %q", s.name, desc, s.wantDesc)
		}
	}
	h.decideDevice(uc, approval(u, h.clock.Now()))
	status, tok := h.exchange(pollForm("tv", dc))
	if status != 200 || tok["refresh_token"] == nil || tok["id_token"] == nil || tok["scope"] != "openid read" || tok["token_type"] != "Bearer" {
		t.Fatalf("poll after approval: %d %v", status, tok)
	}
	claims := verifyWithJWKS(t, h, tok["access_token"].(string))
	if claims["sub"] != u.ID || claims["client_id"] != "tv" {
		t.Fatalf("access token claims %v", claims)
	}
	// The refresh token works like any other.
	status, body := h.exchange(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "client_id": {"tv"}})
	if status != 200 {
		t.Fatalf("refresh: %d %v", status, body)
	}
	status, body = h.exchange(pollForm("tv", dc))
	wantOAuthError(t, "poll after redemption", status, body, 400, oauth.CodeInvalidGrant)
}

func TestDeviceGrantErrors(t *testing.T) {
	tests := []struct {
		name string
		// setup returns the form to poll with, after whatever it did.
		setup      func(h *harness, u *store.User) url.Values
		wantStatus int
		wantErr    string
	}{
		{"denied", func(h *harness, u *store.User) url.Values {
			dc, uc := newDeviceRequest(h, "tv")
			h.decideDevice(uc, store.DeviceDecision{Status: store.DeviceDenied})
			return pollForm("tv", dc)
		}, 400, oauth.CodeAccessDenied},
		{"expired", func(h *harness, u *store.User) url.Values {
			dc, _ := newDeviceRequest(h, "tv")
			h.clock.Advance(10 * time.Minute)
			return pollForm("tv", dc)
		}, 400, oauth.CodeExpiredToken},
		{"approved after expiry is still expired", func(h *harness, u *store.User) url.Values {
			dc, uc := newDeviceRequest(h, "tv")
			h.decideDevice(uc, approval(u, h.clock.Now()))
			h.clock.Advance(11 * time.Minute)
			return pollForm("tv", dc)
		}, 400, oauth.CodeExpiredToken},
		{"no device_code", func(h *harness, u *store.User) url.Values {
			return url.Values{"grant_type": {oauth.GrantDeviceCode}, "client_id": {"tv"}}
		}, 400, oauth.CodeInvalidRequest},
		{"garbage device_code", func(h *harness, u *store.User) url.Values {
			return pollForm("tv", "not-a-device-code")
		}, 400, oauth.CodeInvalidGrant},
		{"client not registered for the grant", func(h *harness, u *store.User) url.Values {
			dc, _ := newDeviceRequest(h, "tv")
			return pollForm("spa", dc)
		}, 400, oauth.CodeUnauthorizedClient},
		{"user's password changed since approval", func(h *harness, u *store.User) url.Values {
			dc, uc := newDeviceRequest(h, "tv")
			h.decideDevice(uc, approval(u, h.clock.Now()))
			if err := h.accounts.SetPassword(context.Background(), u.ID, "another long password"); err != nil {
				t.Fatal(err)
			}
			return pollForm("tv", dc)
		}, 400, oauth.CodeInvalidGrant},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, u := deviceSetup(t)
			status, body := h.exchange(tc.setup(h, u))
			wantOAuthError(t, tc.name, status, body, tc.wantStatus, tc.wantErr)
		})
	}
}

func newDeviceRequest(h *harness, clientID string) (deviceCode, userCode string) {
	h.t.Helper()
	status, resp := h.authorizeDevice(url.Values{"client_id": {clientID}, "scope": {"read"}})
	if status != 200 {
		h.t.Fatalf("device authorization: %d %v", status, resp)
	}
	return resp["device_code"].(string), resp["user_code"].(string)
}

// Of concurrent polls after approval exactly one gets tokens; the others
// are told the code is used.
func TestDeviceGrantConcurrentPolls(t *testing.T) {
	h, u := deviceSetup(t)
	_, resp := h.authorizeDevice(url.Values{"scope": {"read"}}, withBasic("box", "box-secret"))
	dc, uc := resp["device_code"].(string), resp["user_code"].(string)
	h.decideDevice(uc, approval(u, h.clock.Now()))
	const pollers = 16
	statuses := make([]int, pollers)
	bodies := make([]map[string]any, pollers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range pollers {
		wg.Go(func() {
			<-start
			w := h.postForm(httpapi.PathToken, url.Values{"grant_type": {oauth.GrantDeviceCode}, "device_code": {dc}},
				withBasic("box", "box-secret"))
			statuses[i], bodies[i] = w.Code, decodeJSON(t, w.Body.Bytes())
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for i := range pollers {
		switch {
		case statuses[i] == 200:
			ok++
			if bodies[i]["refresh_token"] != nil {
				t.Errorf("a client not registered for refresh_token got one")
			}
		case statuses[i] != 400 || bodies[i]["error"] != oauth.CodeInvalidGrant:
			t.Errorf("poll %d: %d %v", i, statuses[i], bodies[i])
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent polls got tokens, want exactly 1", ok, pollers)
	}
}

// RFC 9449: a poll with a DPoP proof gets DPoP-bound tokens, through the
// same issue path as every other grant.
func TestDeviceGrantDPoP(t *testing.T) {
	h, u := deviceSetup(t, withDPoP(false))
	p := newProver(t, h.clock.Now)
	dc, uc := newDeviceRequest(h, "tv")
	h.decideDevice(uc, approval(u, h.clock.Now()))
	status, tok := h.exchange(pollForm("tv", dc), withDPoPProof(p.proof("POST", issuer+httpapi.PathToken, "", "")))
	if status != 200 || tok["token_type"] != "DPoP" {
		t.Fatalf("poll with a proof: %d %v", status, tok)
	}
	claims := verifyWithJWKS(t, h, tok["access_token"].(string))
	if cnf, _ := claims["cnf"].(map[string]any); cnf["jkt"] != p.jkt() {
		t.Fatalf("access token cnf %v, want jkt %s", claims["cnf"], p.jkt())
	}
}

// Without the device store the grant is not served: unsupported_grant_type,
// no endpoint, nothing advertised.
func TestDeviceGrantOff(t *testing.T) {
	h, _ := userSetup(t)
	status, body := h.exchange(pollForm("spa", "x"))
	wantOAuthError(t, "poll", status, body, 400, oauth.CodeUnsupportedGrantType)
	if w := h.postForm(httpapi.PathDeviceAuthorization, url.Values{"client_id": {"spa"}}); w.Code != http.StatusNotFound {
		t.Fatalf("device authorization endpoint: %d", w.Code)
	}
	m := decodeJSON(t, h.do(http.MethodGet, "/.well-known/oauth-authorization-server", "", "").Body.Bytes())
	if _, ok := m["device_authorization_endpoint"]; ok {
		t.Fatal("device_authorization_endpoint advertised without the grant")
	}
}
