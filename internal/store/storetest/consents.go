package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/authd/authd/internal/store"
)

func consentCases() []testCase {
	return []testCase{
		{"NoneIsEmpty", func(t *testing.T, s store.Store) {
			got, err := s.Consent(t.Context(), "alice", "c1")
			wantErr(t, "Consent", err, nil)
			if len(got) != 0 {
				t.Fatalf("Consent with no grant = %q, want empty", got)
			}
		}},
		{"GrantsAccumulate", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			grants := []struct {
				subject, client string
				scopes          []string
			}{
				{"alice", "c1", []string{"openid", "profile"}},
				{"alice", "c1", []string{"profile", "email"}},
				{"alice", "c1", nil},
				{"alice", "c2", []string{"openid"}},
				{"bob", "c1", []string{"offline_access"}},
			}
			for i, g := range grants {
				err := s.GrantConsent(ctx, g.subject, g.client, g.scopes, t0().Add(time.Duration(i)*time.Minute))
				wantErr(t, "GrantConsent", err, nil)
			}
			tests := []struct {
				subject, client string
				want            []string
			}{
				{"alice", "c1", []string{"email", "openid", "profile"}},
				{"alice", "c2", []string{"openid"}},
				{"bob", "c1", []string{"offline_access"}},
				{"bob", "c2", nil},
			}
			for _, tc := range tests {
				t.Run(tc.subject+"/"+tc.client, func(t *testing.T) {
					got, err := s.Consent(ctx, tc.subject, tc.client)
					wantErr(t, "Consent", err, nil)
					got = slices.Clone(got)
					slices.Sort(got)
					if !slices.Equal(stringsOrNil(got), tc.want) {
						t.Fatalf("Consent(%s, %s) = %q, want %q", tc.subject, tc.client, got, tc.want)
					}
				})
			}
		}},
	}
}
