package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/client"
	"github.com/authd/authd/internal/httpapi"
	"github.com/authd/authd/internal/oauth"
)

func withRegistration(mode string) func(*harnessConfig) {
	return func(c *harnessConfig) { c.registration = mode }
}

func withBearer(tok string) reqOpt { return withHeader("Authorization", "Bearer "+tok) }

func (h *harness) mintRegistrationToken(uses int) string {
	h.t.Helper()
	tok, _, err := h.clients.MintRegistrationToken(context.Background(), time.Hour, uses, client.Caller{Credential: "admin-token"})
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

const webApp = `{"client_name":"Web app","redirect_uris":["https://app.example/cb"],"grant_types":["authorization_code","refresh_token"],"scope":"read"}`

// TestRegistration walks RFC 7591 §3 and RFC 7592 §2 with an initial
// access token: register, read, use the credentials, update, delete.
func TestRegistration(t *testing.T) {
	h := newHarness(t, withRegistration("token"))
	disc := decodeJSON(t, h.do(http.MethodGet, "/.well-known/oauth-authorization-server", "", "").Body.Bytes())
	if disc["registration_endpoint"] != issuer+httpapi.PathRegister {
		t.Fatalf("registration_endpoint = %v", disc["registration_endpoint"])
	}
	iat := h.mintRegistrationToken(1)

	w := h.do(http.MethodPost, httpapi.PathRegister, "application/json", webApp, withBearer(iat))
	if w.Code != http.StatusCreated {
		t.Fatalf("register: %d %s", w.Code, w.Body)
	}
	if w.Header().Get("Cache-Control") != "no-store" {
		t.Fatal("registration response is cacheable (RFC 7591 §3.2.1)")
	}
	reg := decodeJSON(t, w.Body.Bytes())
	id, _ := reg["client_id"].(string)
	secret, _ := reg["client_secret"].(string)
	rat, _ := reg["registration_access_token"].(string)
	if id == "" || secret == "" || rat == "" || reg["client_secret_expires_at"] != float64(0) ||
		reg["registration_client_uri"] != issuer+httpapi.PathRegister+"/"+id || reg["client_id_issued_at"] == nil {
		t.Fatalf("registration response %v", reg)
	}
	if reg["first_party"] == true {
		t.Fatal("a self-registered client is first-party")
	}
	// The initial access token had one use.
	if w := h.do(http.MethodPost, httpapi.PathRegister, "application/json", webApp, withBearer(iat)); w.Code != http.StatusUnauthorized ||
		!strings.Contains(w.Header().Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("second use of a one-use token: %d %s %q", w.Code, w.Body, w.Header().Get("WWW-Authenticate"))
	}

	// RFC 7592 §2.1: read with the registration access token, never the secret.
	cfgPath := httpapi.PathRegister + "/" + id
	w = h.do(http.MethodGet, cfgPath, "", "", withBearer(rat))
	got := decodeJSON(t, w.Body.Bytes())
	if w.Code != http.StatusOK || got["client_name"] != "Web app" || got["client_secret"] != nil {
		t.Fatalf("read: %d %v", w.Code, got)
	}
	// The credentials issued work at the token endpoint's client authentication.
	if w := h.postForm(httpapi.PathRevoke, url.Values{"token": {"x"}}, withBasic(id, secret)); w.Code != http.StatusOK {
		t.Fatalf("revoke with the registered secret: %d %s", w.Code, w.Body)
	}

	// §2.2: update; client_id must be its own; the secret may be repeated.
	upd := `{"client_id":"` + id + `","client_secret":"` + secret + `","client_name":"Renamed","redirect_uris":["https://app.example/cb2"],"grant_types":["authorization_code"]}`
	w = h.do(http.MethodPut, cfgPath, "application/json", upd, withBearer(rat))
	if got := decodeJSON(t, w.Body.Bytes()); w.Code != http.StatusOK || got["client_name"] != "Renamed" {
		t.Fatalf("update: %d %v", w.Code, got)
	}
	for _, tc := range []struct{ name, body, code string }{
		{"no client_id", `{"client_name":"x","redirect_uris":["https://app.example/cb"]}`, "invalid_client_metadata"},
		{"wrong secret", `{"client_id":"` + id + `","client_secret":"nope","redirect_uris":["https://app.example/cb"]}`, "invalid_client_metadata"},
		{"sends the registration token", `{"client_id":"` + id + `","registration_access_token":"` + rat + `","redirect_uris":["https://app.example/cb"]}`, "invalid_request"},
		{"bad redirect", `{"client_id":"` + id + `","redirect_uris":["http://app.example/cb"]}`, "invalid_redirect_uri"},
		{"gives itself client_credentials", `{"client_id":"` + id + `","redirect_uris":["https://app.example/cb"],"grant_types":["authorization_code","client_credentials"]}`, "invalid_client_metadata"},
	} {
		w := h.do(http.MethodPut, cfgPath, "application/json", tc.body, withBearer(rat))
		if got := decodeJSON(t, w.Body.Bytes()); w.Code != http.StatusBadRequest || got["error"] != tc.code {
			t.Errorf("update %s: %d %v, want 400 %s", tc.name, w.Code, got, tc.code)
		}
	}
	if c, _ := h.db.Client(context.Background(), id); c.Name != "Renamed" || c.AllowsGrant(oauth.GrantClientCredentials) {
		t.Fatalf("a refused update changed the client: %+v", c)
	}

	// Another client's token, or none, reads nothing; an unknown id looks the same.
	other := decodeJSON(t, h.do(http.MethodPost, httpapi.PathRegister, "application/json", webApp, withBearer(h.mintRegistrationToken(1))).Body.Bytes())
	for _, tc := range []struct {
		name string
		path string
		opts []reqOpt
	}{
		{"another client's token", cfgPath, []reqOpt{withBearer(other["registration_access_token"].(string))}},
		{"no token", cfgPath, nil},
		{"unknown client", httpapi.PathRegister + "/nope", []reqOpt{withBearer(rat)}},
		{"the client secret", cfgPath, []reqOpt{withBearer(secret)}},
	} {
		if w := h.do(http.MethodGet, tc.path, "", "", tc.opts...); w.Code != http.StatusUnauthorized || !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: %d %q", tc.name, w.Code, w.Header().Get("WWW-Authenticate"))
		}
	}

	// §2.3: delete; afterwards the token and the client are gone.
	if w := h.do(http.MethodDelete, cfgPath, "", "", withBearer(rat)); w.Code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", w.Code, w.Body)
	}
	if w := h.do(http.MethodGet, cfgPath, "", "", withBearer(rat)); w.Code != http.StatusUnauthorized {
		t.Fatalf("read after delete: %d", w.Code)
	}
	if w := h.postForm(httpapi.PathRevoke, url.Values{"token": {"x"}}, withBasic(id, secret)); w.Code != http.StatusUnauthorized {
		t.Fatalf("a deleted client still authenticates: %d", w.Code)
	}
}

// TestRegistrationRefusals: bad requests get RFC 7591 §3.2.2 errors, and a
// refused registration spends no use of the initial access token.
func TestRegistrationRefusals(t *testing.T) {
	h := newHarness(t, withRegistration("token"))
	iat := h.mintRegistrationToken(1)
	for _, tc := range []struct {
		name, ctype, body string
		status            int
		code              string
	}{
		{"not JSON", "application/x-www-form-urlencoded", "client_name=x", 400, "invalid_client_metadata"},
		{"JSON array", "application/json", `[1]`, 400, "invalid_client_metadata"},
		{"wrong type", "application/json", `{"redirect_uris":"https://app.example/cb"}`, 400, "invalid_client_metadata"},
		{"fragment in a redirect", "application/json", `{"redirect_uris":["https://app.example/cb#x"]}`, 400, "invalid_redirect_uri"},
		{"jwks and jwks_uri", "application/json", `{"token_endpoint_auth_method":"private_key_jwt","jwks_uri":"https://app.example/jwks","jwks":{"keys":[]}}`, 400, "invalid_client_metadata"},
		{"implicit", "application/json", `{"redirect_uris":["https://app.example/cb"],"response_types":["token"]}`, 400, "invalid_client_metadata"},
		// RFC 8693 impersonation is the operator's to allow.
		{"allow_impersonation", "application/json", `{"grant_types":["urn:ietf:params:oauth:grant-type:token-exchange"],"allow_impersonation":true}`, 400, "invalid_client_metadata"},
	} {
		w := h.do(http.MethodPost, httpapi.PathRegister, tc.ctype, tc.body, withBearer(iat))
		if got := decodeJSON(t, w.Body.Bytes()); w.Code != tc.status || got["error"] != tc.code {
			t.Errorf("%s: %d %v, want %d %s", tc.name, w.Code, got, tc.status, tc.code)
		}
	}
	// The token still has its one use.
	if w := h.do(http.MethodPost, httpapi.PathRegister, "application/json", webApp, withBearer(iat)); w.Code != http.StatusCreated {
		t.Fatalf("register after refusals: %d %s", w.Code, w.Body)
	}
	// Without a token, token mode refuses with a bare challenge (RFC 6750 §3.1).
	w := h.do(http.MethodPost, httpapi.PathRegister, "application/json", webApp)
	if w.Code != http.StatusUnauthorized || !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("no token: %d %q", w.Code, w.Header().Get("WWW-Authenticate"))
	}
	// A client_id asked for is the server's to choose (§3.2.1).
	body := decodeJSON(t, h.do(http.MethodPost, httpapi.PathRegister, "application/json",
		`{"client_id":"chosen","redirect_uris":["https://app.example/cb"]}`, withBearer(h.mintRegistrationToken(1))).Body.Bytes())
	if body["client_id"] == "chosen" || body["client_id"] == nil {
		t.Fatalf("client chose its id: %v", body)
	}
}

// TestOpenRegistration: without a token anyone may register, within a rate
// limit, but not for the grants only the operator hands out.
func TestOpenRegistration(t *testing.T) {
	calls := 0
	h := newHarness(t, withRegistration("open"), func(c *harnessConfig) {
		c.allowOpen = func(context.Context, string) error {
			calls++
			if calls > 2 {
				return oauth.TooManyRequests(60)
			}
			return nil
		}
	})
	w := h.do(http.MethodPost, httpapi.PathRegister, "application/json", webApp)
	if w.Code != http.StatusCreated {
		t.Fatalf("open registration: %d %s", w.Code, w.Body)
	}
	for _, body := range []string{
		`{"grant_types":["client_credentials"]}`,
		`{}`, // no redirect URIs: the default grant would be client_credentials
		`{"grant_types":["password"],"redirect_uris":["https://app.example/cb"]}`,
		`{"grant_types":["urn:ietf:params:oauth:grant-type:token-exchange"]}`,
	} {
		calls = 0
		w := h.do(http.MethodPost, httpapi.PathRegister, "application/json", body)
		if got := decodeJSON(t, w.Body.Bytes()); w.Code != http.StatusBadRequest || got["error"] != "invalid_client_metadata" {
			t.Errorf("open registration of %s: %d %v", body, w.Code, got)
		}
	}
	// With an initial access token the operator's grants are allowed, and the
	// token is checked, not ignored.
	iat := h.mintRegistrationToken(1)
	if w := h.do(http.MethodPost, httpapi.PathRegister, "application/json", `{"grant_types":["client_credentials"]}`, withBearer(iat)); w.Code != http.StatusCreated {
		t.Fatalf("client_credentials with a token under open registration: %d %s", w.Code, w.Body)
	}
	if w := h.do(http.MethodPost, httpapi.PathRegister, "application/json", webApp, withBearer("wrong")); w.Code != http.StatusUnauthorized {
		t.Fatalf("a wrong token under open registration: %d", w.Code)
	}
	calls = 2
	if w := h.do(http.MethodPost, httpapi.PathRegister, "application/json", webApp); w.Code != http.StatusTooManyRequests {
		t.Fatalf("over the open-registration limit: %d %s", w.Code, w.Body)
	}
}

// With registration off there is no endpoint and none is advertised.
func TestRegistrationOff(t *testing.T) {
	h := newHarness(t)
	if w := h.do(http.MethodPost, httpapi.PathRegister, "application/json", webApp); w.Code != http.StatusNotFound {
		t.Fatalf("POST %s with registration off: %d", httpapi.PathRegister, w.Code)
	}
	var disc map[string]any
	_ = json.Unmarshal(h.do(http.MethodGet, "/.well-known/oauth-authorization-server", "", "").Body.Bytes(), &disc)
	if _, ok := disc["registration_endpoint"]; ok {
		t.Fatal("registration_endpoint advertised while off")
	}
}
