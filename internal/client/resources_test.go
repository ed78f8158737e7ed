package client_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/authd/authd/internal/client"
	"github.com/authd/authd/internal/oauth"
)

// TestAllowedResources: allowed_resources is kept, as RFC 8707 §2 resource
// indicators (absolute, no fragment), or refused with
// invalid_client_metadata naming the member (RFC 7591 §3.2.2).
func TestAllowedResources(t *testing.T) {
	tests := []struct {
		name      string
		in        []string
		want      []string
		wantField string
	}{
		{"absent: any registered resource", nil, nil, ""},
		{"kept sorted without duplicates", []string{"https://b.example/", "https://a.example/api", "https://b.example/"},
			[]string{"https://a.example/api", "https://b.example/"}, ""},
		{"a URN", []string{"urn:example:orders"}, []string{"urn:example:orders"}, ""},
		{"relative", []string{"/api"}, nil, "allowed_resources"},
		{"with a fragment", []string{"https://api.example/#x"}, nil, "allowed_resources"},
		{"with a space", []string{"https://api.example/ x"}, nil, "allowed_resources"},
		{"empty string", []string{""}, nil, "allowed_resources"},
	}
	svc := newKeyService(t, false)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := client.Metadata{ClientMetadata: oauth.ClientMetadata{AllowedResources: tc.in}}
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
			if got := stored.Metadata.AllowedResources; !slices.Equal(got, tc.want) {
				t.Fatalf("stored %q, want %q", got, tc.want)
			}
		})
	}
}
