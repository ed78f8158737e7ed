package client_test

import (
	"context"
	"errors"
	"strings"
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

// FuzzLogoutMetadata: whatever logout members a registration sends,
// validation answers with a client or an InvalidMetadata, never a panic, and
// an accepted frontchannel_logout_uri is on the origin of a redirect URI
// and has no fragment (Front-Channel §2).
func FuzzLogoutMetadata(f *testing.F) {
	f.Add("https://app.example/cb", "https://rp.example/bc", "https://app.example/fc?x=1")
	f.Add("http://127.0.0.1:8080/cb", "http://127.0.0.1/bc#x", "http://127.0.0.1:8080/fc")
	f.Add("https://app.example/cb", "", "https://APP.example/fc")
	f.Add("https://app.example:443/cb", "https://[::1]/bc", "https://app.example/%zz")
	svc := newKeyService(f, false)
	f.Fuzz(func(t *testing.T, redirect, back, front string) {
		m := client.Metadata{GrantTypes: []string{oauth.GrantAuthorizationCode}, RedirectURIs: []string{redirect},
			ClientMetadata: oauth.ClientMetadata{BackchannelLogoutURI: back, FrontchannelLogoutURI: front}}
		c, _, err := svc.Create(context.Background(), m, client.Caller{})
		var im *client.InvalidMetadata
		if err != nil {
			if !errors.As(err, &im) {
				t.Fatalf("not an InvalidMetadata: %v", err)
			}
			return
		}
		if front != "" && (strings.Contains(front, "#") || c.Metadata.FrontchannelLogoutURI != front) {
			t.Fatalf("accepted frontchannel_logout_uri %q as %q", front, c.Metadata.FrontchannelLogoutURI)
		}
		if back != "" && strings.Contains(back, "#") {
			t.Fatalf("accepted backchannel_logout_uri with a fragment %q", back)
		}
	})
}
