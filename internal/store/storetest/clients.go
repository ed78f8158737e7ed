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
			upd.Metadata = oauth.ClientMetadata{JWKSURI: "https://other.example/jwks", DPoPBoundAccessTokens: true}
			upd.RegistrationTokenHash = sum("rotated registration token")
			upd.SecretSealed = []byte("must not be written")
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
			if string(got.SecretHash) != string(orig.SecretHash) || string(got.SecretSealed) != string(orig.SecretSealed) ||
				!got.CreatedAt.Equal(orig.CreatedAt.Truncate(time.Microsecond)) {
				t.Fatal("UpdateClient changed the secret or the creation time")
			}
			mustEqual(t, "metadata after update", gotClient(got).Metadata, gotClient(upd).Metadata)
			if string(got.RegistrationTokenHash) != string(upd.RegistrationTokenHash) {
				t.Fatal("UpdateClient did not replace the registration token hash")
			}
			wantErr(t, "UpdateClient absent", s.UpdateClient(ctx, client("nope")), store.ErrNotFound)
			// Clearing a list stores it empty.
			upd.PostLogoutRedirectURIs = nil
			wantErr(t, "UpdateClient clearing", s.UpdateClient(ctx, upd), nil)
			if got, err = s.Client(ctx, "c1"); err != nil || len(got.PostLogoutRedirectURIs) != 0 {
				t.Fatalf("after clearing post_logout_redirect_uris: %v, %v", got.PostLogoutRedirectURIs, err)
			}
		}},
		{"OriginAllowed", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			allowed := func(origin string, want bool) {
				t.Helper()
				got, err := s.OriginAllowed(ctx, origin)
				wantErr(t, "OriginAllowed "+origin, err, nil)
				if got != want {
					t.Fatalf("OriginAllowed(%q) = %v, want %v", origin, got, want)
				}
			}
			allowed("https://spa.example", false)
			conf := client("conf") // confidential: only its explicit origins
			wantErr(t, "CreateClient conf", s.CreateClient(ctx, conf), nil)
			spa := &oauth.Client{
				ID: "spa", Name: "SPA", TokenEndpointAuthMethod: oauth.AuthMethodNone,
				GrantTypes:         []string{oauth.GrantAuthorizationCode},
				RedirectURIs:       []string{"https://App.Example:443/cb", "com.example.app:/cb"},
				AllowedCORSOrigins: []string{"https://spa.example"}, // also conf's
				AccessTokenFormat:  oauth.FormatJWT, CreatedAt: t0(), UpdatedAt: t0(),
			}
			wantErr(t, "CreateClient spa", s.CreateClient(ctx, spa), nil)
			allowed("https://spa.example", true)
			allowed("http://127.0.0.1:5173", true)
			allowed("https://app.example", true) // derived from the public client's redirect URI
			allowed("https://app.example.evil", false)
			allowed("http://app.example", false)
			allowed("https://app.example/cb", false) // an origin has no path
			allowed("https://spa.example:8443", false)

			// An update replaces a client's origins; another client's stay.
			spa.RedirectURIs = []string{"https://new.example/cb"}
			spa.AllowedCORSOrigins = nil
			wantErr(t, "UpdateClient spa", s.UpdateClient(ctx, spa), nil)
			allowed("https://app.example", false)
			allowed("https://new.example", true)
			allowed("https://spa.example", true) // still conf's
			got, err := s.Client(ctx, "conf")
			wantErr(t, "Client conf", err, nil)
			if !slices.Equal(got.AllowedCORSOrigins, conf.AllowedCORSOrigins) {
				t.Fatalf("AllowedCORSOrigins = %q, want %q", got.AllowedCORSOrigins, conf.AllowedCORSOrigins)
			}
			wantErr(t, "DeleteClient conf", s.DeleteClient(ctx, "conf"), nil)
			allowed("https://spa.example", false)
			allowed("http://127.0.0.1:5173", false)
			wantErr(t, "DeleteClient spa", s.DeleteClient(ctx, "spa"), nil)
			allowed("https://new.example", false)
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
			wantErr(t, "SetClientSecret", s.SetClientSecret(ctx, "c1", sum("new secret"), []byte("new sealed"), now), nil)
			got, err := s.Client(ctx, "c1")
			wantErr(t, "Client", err, nil)
			want := client("c1")
			want.SecretHash, want.SecretSealed, want.UpdatedAt = sum("new secret"), []byte("new sealed"), now
			mustEqual(t, "client after SetClientSecret", gotClient(got), wantClient(want))
			// A client that moves off client_secret_jwt keeps no sealed secret.
			wantErr(t, "SetClientSecret unsealed", s.SetClientSecret(ctx, "c1", sum("third"), nil, now), nil)
			if got, err = s.Client(ctx, "c1"); err != nil || got.SecretSealed != nil {
				t.Fatalf("sealed secret after SetClientSecret(nil): %q, %v", got.SecretSealed, err)
			}
			wantErr(t, "SetClientSecret missing", s.SetClientSecret(ctx, "nope", sum("x"), nil, now), store.ErrNotFound)
		}},
	}
}
