package client_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/authd/authd/internal/client"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/testenv/dbtest"
)

// TestAllowImpersonation: allow_impersonation (RFC 8693 §1.1) is kept for a
// confidential client of the token-exchange grant and refused with
// invalid_client_metadata naming the member (RFC 7591 §3.2.2) otherwise.
func TestAllowImpersonation(t *testing.T) {
	svc := client.New(dbtest.SQLite(t), client.Options{
		Grants:      []string{oauth.GrantClientCredentials, oauth.GrantTokenExchange},
		MaxTokenTTL: time.Hour,
	})
	tests := []struct {
		name      string
		grants    []string
		method    string
		wantField string
	}{
		{"token exchange client", []string{oauth.GrantTokenExchange}, "", ""},
		{"without the grant", []string{oauth.GrantClientCredentials}, "", "allow_impersonation"},
		{"public client", []string{oauth.GrantTokenExchange}, oauth.AuthMethodNone, "allow_impersonation"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := client.Metadata{GrantTypes: tc.grants, TokenEndpointAuthMethod: tc.method,
				ClientMetadata: oauth.ClientMetadata{AllowImpersonation: true}}
			c, _, err := svc.Create(context.Background(), m, client.Caller{})
			if tc.wantField != "" {
				var im *client.InvalidMetadata
				if !errors.As(err, &im) || im.Field != tc.wantField {
					t.Fatalf("err = %v, want invalid %s", err, tc.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			stored, err := svc.Get(context.Background(), c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !stored.Metadata.AllowImpersonation {
				t.Fatal("allow_impersonation was not kept")
			}
		})
	}
}
