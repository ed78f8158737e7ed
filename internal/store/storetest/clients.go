package storetest

import (
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/store"
)

func clientCases() []testCase {
	return []testCase{
		{"UpdateReplacesMetadataKeepsSecret", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			orig := client("c1")
			wantErr(t, "CreateClient", s.CreateClient(ctx, orig), nil)
			upd := client("c1")
			upd.SecretHash = sum("must not be written")
			upd.CreatedAt = t0().Add(99 * time.Hour) // must not be written
			upd.Name = "Renamed"
			upd.GrantTypes = []string{oauth.GrantClientCredentials}
			upd.RedirectURIs = nil
			upd.PostLogoutRedirectURIs = []string{"https://app.example/bye"}
			upd.Scopes = []string{"read"}
			upd.TokenEndpointAuthMethod = oauth.AuthMethodPost
			upd.AccessTokenFormat = oauth.FormatJWT
			upd.AccessTokenTTL = time.Hour
			upd.FirstParty = false
			upd.UpdatedAt = t0().Add(2 * time.Hour)
			wantErr(t, "UpdateClient", s.UpdateClient(ctx, upd), nil)
			got, err := s.Client(ctx, "c1")
			wantErr(t, "Client", err, nil)
			if got.Name != "Renamed" || len(got.GrantTypes) != 1 || got.GrantTypes[0] != oauth.GrantClientCredentials ||
				len(got.RedirectURIs) != 0 || !slices.Equal(got.PostLogoutRedirectURIs, upd.PostLogoutRedirectURIs) ||
				len(got.Scopes) != 1 || got.TokenEndpointAuthMethod != oauth.AuthMethodPost ||
				got.AccessTokenFormat != oauth.FormatJWT || got.AccessTokenTTL != time.Hour || got.FirstParty ||
				!got.UpdatedAt.Equal(upd.UpdatedAt.Truncate(time.Microsecond)) {
				t.Fatalf("after update: %+v", got)
			}
			if string(got.SecretHash) != string(orig.SecretHash) || !got.CreatedAt.Equal(orig.CreatedAt.Truncate(time.Microsecond)) {
				t.Fatal("UpdateClient changed the secret or the creation time")
			}
			wantErr(t, "UpdateClient absent", s.UpdateClient(ctx, client("nope")), store.ErrNotFound)
			// Clearing a list stores it empty.
			upd.PostLogoutRedirectURIs = nil
			wantErr(t, "UpdateClient clearing", s.UpdateClient(ctx, upd), nil)
			if got, err = s.Client(ctx, "c1"); err != nil || len(got.PostLogoutRedirectURIs) != 0 {
				t.Fatalf("after clearing post_logout_redirect_uris: %v, %v", got.PostLogoutRedirectURIs, err)
			}
		}},
		{"RoundTrip", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			public := &oauth.Client{
				ID:                      "public",
				Name:                    "SPA",
				RedirectURIs:            []string{"https://spa.example/cb"},
				TokenEndpointAuthMethod: oauth.AuthMethodNone,
				AccessTokenFormat:       oauth.FormatJWT,
				CreatedAt:               t0(),
			}
			for _, c := range []*oauth.Client{client("confidential"), public} {
				wantErr(t, "CreateClient "+c.ID, s.CreateClient(ctx, c), nil)
				got, err := s.Client(ctx, c.ID)
				wantErr(t, "Client "+c.ID, err, nil)
				mustEqual(t, "client "+c.ID, gotClient(got), wantClient(c))
			}
		}},
		{"CreateDuplicateConflicts", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			wantErr(t, "CreateClient", s.CreateClient(ctx, client("c1")), nil)
			dup := client("c1")
			dup.Name = "other"
			wantErr(t, "CreateClient duplicate", s.CreateClient(ctx, dup), store.ErrConflict)
			got, err := s.Client(ctx, "c1")
			wantErr(t, "Client", err, nil)
			mustEqual(t, "client after conflict", gotClient(got), wantClient(client("c1")))
		}},
		{"MissingNotFound", func(t *testing.T, s store.Store) {
			_, err := s.Client(t.Context(), "nope")
			wantErr(t, "Client", err, store.ErrNotFound)
		}},
		{"ListOrderedByID", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			got, err := s.ListClients(ctx)
			wantErr(t, "ListClients empty", err, nil)
			if len(got) != 0 {
				t.Fatalf("ListClients on empty store: %d clients", len(got))
			}
			// Mixed case and punctuation: byte order differs from most locales'.
			ids := []string{"b", "B", "a-1", "a", "_z", "A", "a_1", "Z9"}
			for _, id := range ids {
				wantErr(t, "CreateClient "+id, s.CreateClient(ctx, client(id)), nil)
			}
			got, err = s.ListClients(ctx)
			wantErr(t, "ListClients", err, nil)
			want := append([]string(nil), ids...)
			sort.Strings(want)
			if len(got) != len(want) {
				t.Fatalf("ListClients returned %d clients, want %d", len(got), len(want))
			}
			for i, c := range got {
				if c.ID != want[i] {
					t.Fatalf("ListClients[%d] = %q, want %q (order %v)", i, c.ID, want[i], want)
				}
				mustEqual(t, "listed client "+c.ID, gotClient(c), wantClient(client(c.ID)))
			}
		}},
		{"Delete", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			wantErr(t, "CreateClient c1", s.CreateClient(ctx, client("c1")), nil)
			wantErr(t, "CreateClient c2", s.CreateClient(ctx, client("c2")), nil)
			wantErr(t, "DeleteClient", s.DeleteClient(ctx, "c1"), nil)
			_, err := s.Client(ctx, "c1")
			wantErr(t, "Client after delete", err, store.ErrNotFound)
			wantErr(t, "DeleteClient again", s.DeleteClient(ctx, "c1"), store.ErrNotFound)
			_, err = s.Client(ctx, "c2")
			wantErr(t, "other client after delete", err, nil)
		}},
		{"SetClientSecret", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			wantErr(t, "CreateClient", s.CreateClient(ctx, client("c1")), nil)
			now := t0().Add(48*time.Hour + 999*time.Nanosecond)
			wantErr(t, "SetClientSecret", s.SetClientSecret(ctx, "c1", sum("new secret"), now), nil)
			got, err := s.Client(ctx, "c1")
			wantErr(t, "Client", err, nil)
			want := client("c1")
			want.SecretHash, want.UpdatedAt = sum("new secret"), now
			mustEqual(t, "client after SetClientSecret", gotClient(got), wantClient(want))
			wantErr(t, "SetClientSecret missing", s.SetClientSecret(ctx, "nope", sum("x"), now), store.ErrNotFound)
		}},
	}
}
