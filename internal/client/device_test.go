package client_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/authd/authd/internal/client"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/testenv/dbtest"
)

// RFC 8628 §3.1: a device client has no redirect URI, public or
// confidential; the device grant is registrable once the token service
// serves it, and not before.
func TestDeviceCodeGrantRegistration(t *testing.T) {
	ctx := context.Background()
	by := client.Caller{Credential: "admin-token", IP: "192.0.2.1"}
	grants := []string{oauth.GrantClientCredentials, oauth.GrantAuthorizationCode, oauth.GrantRefreshToken, oauth.GrantDeviceCode}
	tests := []struct {
		name      string
		grants    []string // the token service's
		meta      client.Metadata
		wantField string
	}{
		{"public, no redirect URI", grants, client.Metadata{TokenEndpointAuthMethod: oauth.AuthMethodNone,
			GrantTypes: []string{oauth.GrantDeviceCode, oauth.GrantRefreshToken}}, ""},
		{"confidential, no redirect URI", grants, client.Metadata{GrantTypes: []string{oauth.GrantDeviceCode}}, ""},
		{"not served", grants[:3], client.Metadata{TokenEndpointAuthMethod: oauth.AuthMethodNone,
			GrantTypes: []string{oauth.GrantDeviceCode}}, "grant_types"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			svc := client.New(dbtest.SQLite(t), client.Options{Grants: tc.grants, MaxTokenTTL: time.Hour})
			c, _, err := svc.Create(ctx, tc.meta, by)
			if tc.wantField != "" {
				var im *client.InvalidMetadata
				if !errors.As(err, &im) || im.Field != tc.wantField {
					t.Fatalf("Create = %v, want invalid %s", err, tc.wantField)
				}
				return
			}
			if err != nil || !slices.Contains(c.GrantTypes, oauth.GrantDeviceCode) {
				t.Fatalf("Create = %+v, %v", c, err)
			}
		})
	}
}
