package client_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/internal/client"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/secevent"
	"github.com/authd/authd/internal/store"
	"github.com/authd/authd/internal/testenv/dbtest"
)

type events struct {
	mu sync.Mutex
	es []secevent.Event
}

func (e *events) Emit(ev secevent.Event) { e.mu.Lock(); e.es = append(e.es, ev); e.mu.Unlock() }

// Every change is validated, stored, announced to the caches and recorded with
// its caller; refusals change nothing.
func TestService(t *testing.T) {
	ctx := context.Background()
	db := dbtest.SQLite(t)
	ev := &events{}
	var changed []string
	svc := client.New(db, client.Options{
		Grants:      []string{oauth.GrantClientCredentials, oauth.GrantAuthorizationCode, oauth.GrantRefreshToken},
		MaxTokenTTL: time.Hour,
		Changed:     func(_ context.Context, id string) { changed = append(changed, id) },
		Events:      ev,
	})
	by := client.Caller{Credential: "admin-token", IP: "192.0.2.1"}

	c, secret, err := svc.Create(ctx, client.Metadata{ClientID: "svc", Scope: "read"}, by)
	if err != nil || secret == "" || c.Public() || !slices.Equal(c.GrantTypes, []string{oauth.GrantClientCredentials}) {
		t.Fatalf("create: %+v %q %v", c, secret, err)
	}
	spa, secret, err := svc.Create(ctx, client.Metadata{ClientID: "spa", TokenEndpointAuthMethod: oauth.AuthMethodNone,
		RedirectURIs: []string{"https://spa.example/cb"}}, by)
	if err != nil || secret != "" || !spa.Public() {
		t.Fatalf("create public: %+v %q %v", spa, secret, err)
	}

	tests := []struct {
		name      string
		do        func() error
		wantField string
		wantErr   error
	}{
		{"duplicate id", func() error { _, _, err := svc.Create(ctx, client.Metadata{ClientID: "svc"}, by); return err }, "", store.ErrConflict},
		{"unsupported grant", func() error {
			_, _, err := svc.Create(ctx, client.Metadata{GrantTypes: []string{"password"}}, by)
			return err
		}, "grant_types", nil},
		{"ttl above the ceiling", func() error {
			_, _, err := svc.Create(ctx, client.Metadata{AccessTokenTTL: 7200}, by)
			return err
		}, "access_token_ttl", nil},
		{"switch public to confidential", func() error {
			_, err := svc.Update(ctx, "spa", client.Metadata{RedirectURIs: []string{"https://spa.example/cb"}}, by)
			return err
		}, "token_endpoint_auth_method", nil},
		{"update another id", func() error {
			_, err := svc.Update(ctx, "svc", client.Metadata{ClientID: "other"}, by)
			return err
		}, "client_id", nil},
		{"rotate a public client's secret", func() error { _, err := svc.RotateSecret(ctx, "spa", by); return err }, "", client.ErrNoSecret},
		{"delete unknown", func() error { return svc.Delete(ctx, "nope", by) }, "", store.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(changed)
			err := tc.do()
			var im *client.InvalidMetadata
			switch {
			case tc.wantField != "":
				if !errors.As(err, &im) || im.Field != tc.wantField {
					t.Fatalf("err %v, want invalid %s", err, tc.wantField)
				}
			case !errors.Is(err, tc.wantErr):
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			if len(changed) != before {
				t.Fatal("a refused change reached the caches")
			}
		})
	}

	if _, err := svc.Update(ctx, "svc", client.Metadata{Scope: "read write"}, by); err != nil {
		t.Fatal(err)
	}
	newSecret, err := svc.RotateSecret(ctx, "svc", by)
	if err != nil || newSecret == "" {
		t.Fatal(err)
	}
	if err := svc.Delete(ctx, "spa", by); err != nil {
		t.Fatal(err)
	}
	if want := []string{"svc", "spa", "svc", "svc", "spa"}; !slices.Equal(changed, want) {
		t.Fatalf("caches told of %q, want %q", changed, want)
	}
	var types []string
	for _, e := range ev.es {
		types = append(types, e.Type)
		if e.IP != by.IP || e.Detail["by"] != by.Credential {
			t.Errorf("%s without its caller: %+v", e.Type, e)
		}
		for _, v := range e.Detail {
			if v == newSecret {
				t.Fatal("an event carries a secret")
			}
		}
	}
	want := []string{secevent.AdminClientCreated, secevent.AdminClientCreated, secevent.AdminClientUpdated,
		secevent.AdminClientSecretRotated, secevent.AdminClientDeleted}
	if !slices.Equal(types, want) {
		t.Fatalf("events %q, want %q", types, want)
	}
}

// TestIDsNeverLookLikeFlags: generated client ids never start with "-",
// whatever the random bytes (a command line would take it for a flag).
func TestIDsNeverLookLikeFlags(t *testing.T) {
	for _, first := range []byte{0xf8, 0xfc, 0xff, 0x00} {
		svc := client.New(dbtest.SQLite(t), client.Options{Grants: []string{oauth.GrantClientCredentials},
			Random: func(b []byte) {
				for i := range b {
					b[i] = first
				}
			}})
		c, err := svc.Validate(client.Metadata{})
		if err != nil {
			t.Fatal(err)
		}
		if c.ID[0] == '-' || c.ID[0] == '_' {
			t.Errorf("random bytes %#x gave the id %q", first, c.ID)
		}
	}
}
