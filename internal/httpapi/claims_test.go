package httpapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/authd/authd/internal/account"
	"github.com/authd/authd/internal/httpapi"
	"github.com/authd/authd/internal/keys"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/store"
)

// TestContactClaims: the phone and address scopes (OpenID Connect Core §5.4)
// release phone_number, phone_number_verified and the §5.1.1 address object,
// at userinfo and in the id_token; without them, none of it.
func TestContactClaims(t *testing.T) {
	h, u := userSetup(t)
	h.addClient("crm", "", func(c *oauth.Client) {
		c.TokenEndpointAuthMethod = oauth.AuthMethodNone
		c.GrantTypes = []string{oauth.GrantAuthorizationCode}
		c.RedirectURIs = []string{redirect}
		c.Scopes = []string{"openid", "phone", "address", "email"}
	})
	phone, yes := "+1 555 0100", true
	if _, err := h.accounts.UpdateProfile(context.Background(), u.ID, account.ProfileUpdate{PhoneNumber: &phone, PhoneNumberVerified: &yes,
		Address: &store.Address{StreetAddress: "1 Main St\nApt 2", Locality: "Springfield", Country: "US"}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		scope       string
		phone, addr bool
	}{
		{"openid phone address", true, true},
		{"openid phone", true, false},
		{"openid email", false, false},
	} {
		t.Run(tc.scope, func(t *testing.T) {
			_, tok := h.exchange(codeForm(h.code("c-"+tc.scope, "crm", u.ID, tc.scope, nil), "crm"))
			w := h.do(http.MethodGet, httpapi.PathUserInfo, "", "", withHeader("Authorization", "Bearer "+tok["access_token"].(string)))
			if w.Code != 200 {
				t.Fatalf("userinfo %d %s", w.Code, w.Body)
			}
			var sources = map[string]map[string]any{"userinfo": decodeJSON(t, w.Body.Bytes()), "id_token": jwtPayload(t, tok["id_token"].(string))}
			for where, m := range sources {
				if got := m["phone_number"] == phone && m["phone_number_verified"] == true; got != tc.phone {
					t.Errorf("%s: phone %v %v, want released %v", where, m["phone_number"], m["phone_number_verified"], tc.phone)
				}
				addr, _ := m["address"].(map[string]any)
				if got := addr != nil && addr["street_address"] == "1 Main St\nApt 2" && addr["country"] == "US"; got != tc.addr {
					t.Errorf("%s: address %v, want released %v", where, m["address"], tc.addr)
				}
			}
		})
	}
}

// jwtPayload reads a JWT's claims without verifying it.
func jwtPayload(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %d parts", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestIDTokenAlg: a client's id_token_signed_response_alg picks the series
// its id_tokens are signed with (RS256 is always kept, OpenID Connect Core
// §15.1); others get the server's; at_hash follows the algorithm; both
// verify against the published keys.
func TestIDTokenAlg(t *testing.T) {
	h, u := userSetup(t, func(c *harnessConfig) { c.idTokenRS256 = true })
	for _, id := range []string{"rsa", "ec"} {
		h.addClient(id, "", func(c *oauth.Client) {
			c.TokenEndpointAuthMethod = oauth.AuthMethodNone
			c.GrantTypes = []string{oauth.GrantAuthorizationCode}
			c.RedirectURIs = []string{redirect}
			c.Scopes = []string{"openid"}
			if id == "rsa" {
				c.Metadata.IDTokenSignedResponseAlg = "RS256"
			}
		})
	}
	for id, want := range map[string]string{"rsa": "RS256", "ec": "ES256"} {
		t.Run(id, func(t *testing.T) {
			_, tok := h.exchange(codeForm(h.code("alg-"+id, id, u.ID, "openid", nil), id))
			idt, _ := tok["id_token"].(string)
			hdr, _ := base64.RawURLEncoding.DecodeString(strings.Split(idt, ".")[0])
			var head struct{ Alg string }
			_ = json.Unmarshal(hdr, &head)
			if head.Alg != want {
				t.Fatalf("alg %s, want %s", head.Alg, want)
			}
			if _, err := h.keys.VerifyFor(context.Background(), idt, "JWT", keys.PurposeIDToken); err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256([]byte(tok["access_token"].(string)))
			claims := jwtPayload(t, idt)
			if got := claims["at_hash"]; got != base64.RawURLEncoding.EncodeToString(sum[:16]) {
				t.Errorf("at_hash %v", got)
			}
			// A password sign-in: acr 1, amr pwd (RFC 8176).
			if amr, _ := claims["amr"].([]any); claims["acr"] != "1" || len(amr) != 1 || amr[0] != "pwd" {
				t.Errorf("acr %v amr %v", claims["acr"], claims["amr"])
			}
		})
	}
}
