package storetest

import (
	"errors"
	"testing"

	"github.com/authd/authd/internal/store"
)

func accessTokenCases() []testCase {
	return []testCase{
		{"RoundTrip", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			cc := accessToken(3, "") // client_credentials: no grant, no audience
			cc.Audience = nil
			toks := []*store.AccessToken{accessToken(1, "g1"), accessToken(2, "g1"), cc}
			wantErr(t, "CreateAccessTokens", s.CreateAccessTokens(ctx, toks), nil)
			for _, tok := range toks {
				got, err := s.AccessToken(ctx, tok.Hash)
				wantErr(t, "AccessToken "+tok.Subject, err, nil)
				mustEqual(t, "access token "+tok.Subject, gotAccessToken(got), wantAccessToken(tok))
			}
		}},
		{"MissingNotFound", func(t *testing.T, s store.Store) {
			_, err := s.AccessToken(t.Context(), sum("nope"))
			wantErr(t, "AccessToken", err, store.ErrNotFound)
		}},
		{"EmptyBatch", func(t *testing.T, s store.Store) {
			wantErr(t, "CreateAccessTokens(nil)", s.CreateAccessTokens(t.Context(), nil), nil)
		}},
		{"Delete", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			a, b := accessToken(1, "g"), accessToken(2, "g")
			wantErr(t, "CreateAccessTokens", s.CreateAccessTokens(ctx, []*store.AccessToken{a, b}), nil)
			wantErr(t, "DeleteAccessToken", s.DeleteAccessToken(ctx, a.Hash), nil)
			_, err := s.AccessToken(ctx, a.Hash)
			wantErr(t, "AccessToken after delete", err, store.ErrNotFound)
			wantErr(t, "DeleteAccessToken again", s.DeleteAccessToken(ctx, a.Hash), nil)
			wantErr(t, "DeleteAccessToken absent", s.DeleteAccessToken(ctx, sum("never")), nil)
			_, err = s.AccessToken(ctx, b.Hash)
			wantErr(t, "other token after delete", err, nil)
		}},
		{"Batch100", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			toks := make([]*store.AccessToken, 100)
			for i := range toks {
				toks[i] = accessToken(i, "batch")
			}
			wantErr(t, "CreateAccessTokens", s.CreateAccessTokens(ctx, toks), nil)
			for _, tok := range toks {
				got, err := s.AccessToken(ctx, tok.Hash)
				wantErr(t, "AccessToken "+tok.Subject, err, nil)
				mustEqual(t, "access token "+tok.Subject, gotAccessToken(got), wantAccessToken(tok))
			}
		}},
		{"Batch100AllOrNone", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			existing := accessToken(1000, "existing")
			wantErr(t, "CreateAccessTokens existing", s.CreateAccessTokens(ctx, []*store.AccessToken{existing}), nil)
			tests := []struct {
				name string
				dup  func(batch []*store.AccessToken) // makes one row a duplicate
			}{
				{"duplicate inside batch", func(b []*store.AccessToken) { b[99].Hash = b[0].Hash }},
				{"duplicate of stored token", func(b []*store.AccessToken) { b[50].Hash = existing.Hash }},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					batch := make([]*store.AccessToken, 100)
					for i := range batch {
						batch[i] = accessToken(i, tc.name)
					}
					tc.dup(batch)
					err := s.CreateAccessTokens(ctx, batch)
					if !errors.Is(err, store.ErrConflict) {
						t.Fatalf("CreateAccessTokens with a duplicate: got %v, want ErrConflict", err)
					}
					stored := 0
					for i, tok := range batch {
						if string(tok.Hash) == string(existing.Hash) {
							continue
						}
						_, err := s.AccessToken(ctx, tok.Hash)
						if err == nil {
							stored++
						} else if !errors.Is(err, store.ErrNotFound) {
							t.Fatalf("AccessToken %d: %v", i, err)
						}
					}
					if stored != 0 {
						t.Fatalf("failed batch left %d of its rows stored, want 0", stored)
					}
					got, err := s.AccessToken(ctx, existing.Hash)
					wantErr(t, "existing token", err, nil)
					mustEqual(t, "existing token after failed batch", gotAccessToken(got), wantAccessToken(existing))
				})
			}
		}},
	}
}
