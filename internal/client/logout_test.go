package client_test

import (
	"context"
	"errors"
	"testing"

	"github.com/authd/authd/internal/client"
	"github.com/authd/authd/internal/oauth"
)

// TestLogoutMetadata: the logout members are validated (Back-Channel Logout
// §2.2, Front-Channel Logout §2) and kept; invalid ones are RFC 7591 §3.2.2
// invalid_client_metadata naming the member.
func TestLogoutMetadata(t *testing.T) {
	web := func(m oauth.ClientMetadata) client.Metadata {
		return client.Metadata{GrantTypes: []string{oauth.GrantAuthorizationCode},
			RedirectURIs: []string{"https://app.example/cb", "http://127.0.0.1:8080/cb"}, ClientMetadata: m}
	}
	tests := []struct {
		name      string
		m         client.Metadata
		wantField string // "" means accepted and kept
	}{
		{"backchannel", web(oauth.ClientMetadata{BackchannelLogoutURI: "https://rp.example/logout?x=1",
			BackchannelLogoutSessionRequired: true}), ""},
		{"backchannel with a fragment", web(oauth.ClientMetadata{BackchannelLogoutURI: "https://rp.example/logout#f"}), "backchannel_logout_uri"},
		{"backchannel over http", web(oauth.ClientMetadata{BackchannelLogoutURI: "http://rp.example/logout"}), "backchannel_logout_uri"},
		{"backchannel relative", web(oauth.ClientMetadata{BackchannelLogoutURI: "/logout"}), "backchannel_logout_uri"},
		{"backchannel with credentials", web(oauth.ClientMetadata{BackchannelLogoutURI: "https://u:p@rp.example/logout"}), "backchannel_logout_uri"},
		{"backchannel session required alone", web(oauth.ClientMetadata{BackchannelLogoutSessionRequired: true}), "backchannel_logout_session_required"},
		{"frontchannel", web(oauth.ClientMetadata{FrontchannelLogoutURI: "https://app.example/fc?x=1",
			FrontchannelLogoutSessionRequired: true}), ""},
		{"frontchannel on loopback", web(oauth.ClientMetadata{FrontchannelLogoutURI: "http://127.0.0.1:8080/fc"}), ""},
		// Front-Channel §2: scheme, host and port of a registered redirect URI.
		{"frontchannel on another host", web(oauth.ClientMetadata{FrontchannelLogoutURI: "https://evil.example/fc"}), "frontchannel_logout_uri"},
		{"frontchannel on another port", web(oauth.ClientMetadata{FrontchannelLogoutURI: "http://127.0.0.1:9090/fc"}), "frontchannel_logout_uri"},
		{"frontchannel with a fragment", web(oauth.ClientMetadata{FrontchannelLogoutURI: "https://app.example/fc#x"}), "frontchannel_logout_uri"},
		{"frontchannel javascript", web(oauth.ClientMetadata{FrontchannelLogoutURI: "javascript:alert(1)"}), "frontchannel_logout_uri"},
		{"frontchannel session required alone", web(oauth.ClientMetadata{FrontchannelLogoutSessionRequired: true}), "frontchannel_logout_session_required"},
	}
	svc := newKeyService(t, false)
	by := client.Caller{Credential: "admin-token"}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := svc.Create(context.Background(), tc.m, by)
			if tc.wantField != "" {
				var im *client.InvalidMetadata
				if !errors.As(err, &im) || im.Field != tc.wantField {
					t.Fatalf("err %v, want invalid %s", err, tc.wantField)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			stored, err := svc.Get(context.Background(), c.ID)
			if err != nil {
				t.Fatal(err)
			}
			got, want := stored.Metadata, tc.m.ClientMetadata
			if got.BackchannelLogoutURI != want.BackchannelLogoutURI || got.BackchannelLogoutSessionRequired != want.BackchannelLogoutSessionRequired ||
				got.FrontchannelLogoutURI != want.FrontchannelLogoutURI || got.FrontchannelLogoutSessionRequired != want.FrontchannelLogoutSessionRequired {
				t.Fatalf("stored %+v, registered %+v", got, want)
			}
		})
	}
}
