package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/authd/authd/internal/store"
)

func revocationCases() []testCase {
	return []testCase{
		{"RevokeManyBatchKeepsLaterExpiry", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			wantErr(t, "RevokeMany empty", s.RevokeMany(ctx, nil), nil)
			wantErr(t, "Revoke existing", s.Revoke(ctx, "old", t0().Add(3*time.Hour)), nil)
			wantErr(t, "RevokeMany", s.RevokeMany(ctx, []store.Revocation{
				{ID: "a", ExpiresAt: t0().Add(time.Hour)},
				{ID: "b", ExpiresAt: t0().Add(time.Hour)},
				{ID: "a", ExpiresAt: t0().Add(2 * time.Hour)}, // twice in one batch
				{ID: "old", ExpiresAt: t0().Add(time.Hour)},   // earlier than stored
			}), nil)
			got, err := s.Revoked(ctx, []string{"a", "b", "old", "x"})
			wantErr(t, "Revoked", err, nil)
			got = slices.Clone(got)
			slices.Sort(got)
			if !slices.Equal(got, []string{"a", "b", "old"}) {
				t.Fatalf("Revoked = %q", got)
			}
			// Past one hour, b has expired; a and old kept their later expiries.
			_, err = s.PurgeExpired(ctx, t0().Add(90*time.Minute), 100)
			wantErr(t, "PurgeExpired", err, nil)
			got, err = s.Revoked(ctx, []string{"a", "b", "old"})
			wantErr(t, "Revoked", err, nil)
			got = slices.Clone(got)
			slices.Sort(got)
			if !slices.Equal(got, []string{"a", "old"}) {
				t.Fatalf("after purge Revoked = %q, want a and old", got)
			}
		}},
		{"RevokedReturnsSubset", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			for _, id := range []string{"jti-a", "jti-b", "grant-c"} {
				wantErr(t, "Revoke "+id, s.Revoke(ctx, id, t0().Add(time.Hour)), nil)
			}
			tests := []struct {
				name string
				ids  []string
				want []string
			}{
				{"nil", nil, nil},
				{"none revoked", []string{"x", "y"}, nil},
				{"some revoked", []string{"jti-a", "x", "grant-c", "y"}, []string{"grant-c", "jti-a"}},
				{"all revoked", []string{"jti-b"}, []string{"jti-b"}},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					got, err := s.Revoked(ctx, tc.ids)
					wantErr(t, "Revoked", err, nil)
					got = slices.Clone(got)
					slices.Sort(got)
					if !slices.Equal(stringsOrNil(got), tc.want) {
						t.Fatalf("Revoked(%q) = %q, want %q", tc.ids, got, tc.want)
					}
				})
			}
		}},
		{"RevokeTwiceKeepsLaterExpiry", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			early, late := t0().Add(time.Hour), t0().Add(2*time.Hour)
			wantErr(t, "Revoke later-first", s.Revoke(ctx, "later-first", late), nil)
			wantErr(t, "Revoke later-first again", s.Revoke(ctx, "later-first", early), nil)
			wantErr(t, "Revoke earlier-first", s.Revoke(ctx, "earlier-first", early), nil)
			wantErr(t, "Revoke earlier-first again", s.Revoke(ctx, "earlier-first", late), nil)
			ids := []string{"later-first", "earlier-first"}

			// Between the two expiries both must survive a purge.
			_, err := s.PurgeExpired(ctx, t0().Add(90*time.Minute), 100)
			wantErr(t, "PurgeExpired", err, nil)
			got, err := s.Revoked(ctx, ids)
			wantErr(t, "Revoked", err, nil)
			if len(got) != 2 {
				t.Fatalf("after purge between expiries Revoked = %q, want both", got)
			}
			n, err := s.PurgeExpired(ctx, late.Add(time.Microsecond), 100)
			wantErr(t, "PurgeExpired after late", err, nil)
			if n != 2 {
				t.Fatalf("PurgeExpired after the later expiry deleted %d rows, want 2", n)
			}
			got, err = s.Revoked(ctx, ids)
			wantErr(t, "Revoked", err, nil)
			if len(got) != 0 {
				t.Fatalf("after purge past both expiries Revoked = %q, want none", got)
			}
		}},
	}
}
