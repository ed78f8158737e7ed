package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/authd/authd/internal/httpapi"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/store"
)

// userTokens gets a person's tokens in both formats: from spa (JWT, with a
// refresh token) and from web (opaque).
func userTokens(t *testing.T, h *harness, u *store.User, name string) (jwt, opaque, refresh string) {
	t.Helper()
	status, spa := h.exchange(codeForm(h.code(name+"-spa", "spa", u.ID, "openid read", nil), "spa"))
	if status != 200 {
		t.Fatalf("exchange: %d %v", status, spa)
	}
	f := codeForm(h.code(name+"-web", "web", u.ID, "read", nil), "web")
	f.Del("client_id")
	status, web := h.exchange(f, withBasic("web", "web-secret"))
	if status != 200 {
		t.Fatalf("exchange: %d %v", status, web)
	}
	return spa["access_token"].(string), web["access_token"].(string), spa["refresh_token"].(string)
}

func opaqueWeb(h *harness) {
	h.t.Helper()
	c, err := h.db.Client(context.Background(), "web")
	if err != nil {
		h.t.Fatal(err)
	}
	c.AccessTokenFormat = oauth.FormatOpaque
	if err := h.db.UpdateClient(context.Background(), c); err != nil {
		h.t.Fatal(err)
	}
	h.svc.InvalidateClient(context.Background(), "web")
}

// A password reset, a disabling and a deletion each end every token the person
// holds, both formats, and refresh; an enabled-again account revives nothing;
// other people's tokens stay active; new logins work.
func TestAccountChangesEndTokens(t *testing.T) {
	tests := []struct {
		name   string
		change func(h *harness, u *store.User) error
		// after says whether the person can get working tokens afterwards.
		after bool
	}{
		{"admin password reset", func(h *harness, u *store.User) error {
			return h.accounts.SetPassword(context.Background(), u.ID, "a brand new passphrase")
		}, true},
		{"own password change", func(h *harness, u *store.User) error {
			return h.accounts.ChangePassword(context.Background(), u.ID, "correct horse battery staple", "a brand new passphrase", nil)
		}, true},
		{"disabled", func(h *harness, u *store.User) error {
			return h.accounts.SetDisabled(context.Background(), u.ID, true)
		}, false},
		{"disabled then enabled", func(h *harness, u *store.User) error {
			if err := h.accounts.SetDisabled(context.Background(), u.ID, true); err != nil {
				return err
			}
			return h.accounts.SetDisabled(context.Background(), u.ID, false)
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, u := userSetup(t)
			opaqueWeb(h)
			jwt, opaque, refresh := userTokens(t, h, u, "before")
			other, err := h.accounts.Create(context.Background(), "bob", "another fine passphrase", "")
			if err != nil {
				t.Fatal(err)
			}
			otherJWT, otherOpaque, _ := userTokens(t, h, other, "bob")
			for _, tok := range []string{jwt, opaque, otherJWT, otherOpaque} {
				if h.introspect("web", "web-secret", tok)["active"] != true {
					t.Fatal("fresh token inactive")
				}
			}
			// A code issued before the change but redeemed after.
			pending := h.code("pending", "spa", u.ID, "openid read", nil)

			if err := tc.change(h, u); err != nil {
				t.Fatal(err)
			}
			for what, tok := range map[string]string{"JWT": jwt, "opaque": opaque} {
				if got := h.introspect("web", "web-secret", tok); got["active"] != false {
					t.Errorf("%s access token after the change: %v", what, got)
				}
			}
			status, body := h.exchange(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {"spa"}})
			if status != 400 || body["error"] != "invalid_grant" || !strings.Contains(body["error_description"].(string), "revoked") {
				t.Errorf("refresh after the change: %d %v, want invalid_grant saying it was revoked", status, body)
			}
			if status, body := h.exchange(codeForm(pending, "spa")); status != 400 || body["error"] != "invalid_grant" {
				t.Errorf("code from before the change: %d %v", status, body)
			}
			if w := h.do(http.MethodGet, httpapi.PathUserInfo, "", "", withHeader("Authorization", "Bearer "+jwt)); w.Code != 401 {
				t.Errorf("userinfo with an ended token: %d", w.Code)
			}
			for _, tok := range []string{otherJWT, otherOpaque} {
				if h.introspect("web", "web-secret", tok)["active"] != true {
					t.Fatal("another person's token ended too")
				}
			}
			if !tc.after {
				return
			}
			jwt2, opaque2, _ := userTokens(t, h, u, "after")
			for _, tok := range []string{jwt2, opaque2} {
				if h.introspect("web", "web-secret", tok)["active"] != true {
					t.Fatal("a token issued after the change is inactive")
				}
			}
		})
	}
}
