package token

import (
	"context"
	"crypto/sha256"
	"fmt"
	"testing"

	"github.com/authd/authd/internal/account"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/password"
	"github.com/authd/authd/internal/store"
)

// Fakes for injected faults only; the real paths are tested in httpapi on the
// embedded store.
type oneClient struct{ c *oauth.Client }

func (o oneClient) Client(_ context.Context, id string) (*oauth.Client, error) {
	if id == o.c.ID {
		return o.c, nil
	}
	return nil, store.ErrNotFound
}

type failingAccounts struct{ err error }

func (f failingAccounts) Authenticate(context.Context, string, string) (*store.User, error) {
	return nil, f.err
}
func (f failingAccounts) User(context.Context, string) (*store.User, error) {
	return nil, store.ErrNotFound
}

func TestPasswordGrantFaults(t *testing.T) {
	sum := sha256.Sum256([]byte("s"))
	c := &oauth.Client{ID: "app", SecretHash: sum[:], TokenEndpointAuthMethod: oauth.AuthMethodBasic,
		GrantTypes: []string{oauth.GrantPassword}}
	guardErr := oauth.TooManyRequests(30)
	tests := []struct {
		name       string
		err        error
		wantCode   string
		wantStatus int
		wantRetry  int
	}{
		{"hashing saturated", password.ErrBusy, oauth.CodeTemporarilyUnavailable, 503, 1},
		{"hashing saturated, wrapped", fmt.Errorf("gate: %w", password.ErrBusy), oauth.CodeTemporarilyUnavailable, 503, 1},
		{"guard refuses", guardErr, oauth.CodeTemporarilyUnavailable, 429, 30},
		{"bad credentials", account.ErrInvalidCredentials, oauth.CodeInvalidGrant, 400, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := New(Deps{Clients: oneClient{c}, Refresh: struct{ RefreshStore }{}, Accounts: failingAccounts{tc.err}}, Options{Issuer: "https://x"})
			_, err := s.Exchange(context.Background(), &Request{
				GrantType:   oauth.GrantPassword,
				Credentials: Credentials{ClientID: "app", Secret: "s", Method: oauth.AuthMethodBasic},
				Username:    "u", Password: "p",
			})
			e, ok := oauth.As(err)
			if !ok || e.Code != tc.wantCode || e.Status != tc.wantStatus || e.RetryAfter != tc.wantRetry {
				t.Fatalf("err = %#v", err)
			}
		})
	}
}
