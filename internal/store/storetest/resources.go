package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/authd/authd/internal/store"
)

func wantResource(r *store.Resource) *store.Resource {
	x := *r
	x.Scopes, x.IntrospectingClients = stringsOrNil(r.Scopes), stringsOrNil(r.IntrospectingClients)
	x.CreatedAt, x.UpdatedAt = wantTime(r.CreatedAt), wantTime(r.UpdatedAt)
	return &x
}

func resourceCases() []testCase {
	return []testCase{
		{"CreateGetByIdAndIndicator", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			r := resource("orders")
			r.CreatedAt = r.CreatedAt.Add(1234 * time.Nanosecond) // truncated to µs on the way
			wantErr(t, "CreateResource", s.CreateResource(ctx, r), nil)
			got, err := s.Resource(ctx, r.ID)
			wantErr(t, "Resource", err, nil)
			mustEqual(t, "resource", got, wantResource(r))
			got, err = s.ResourceByIndicator(ctx, r.Indicator)
			wantErr(t, "ResourceByIndicator", err, nil)
			mustEqual(t, "resource by indicator", got, wantResource(r))
			_, err = s.Resource(ctx, "res-nope")
			wantErr(t, "unknown id", err, store.ErrNotFound)
			// Indicators are compared exactly: no normalisation in the store.
			_, err = s.ResourceByIndicator(ctx, "https://api.example/orders/")
			wantErr(t, "other indicator", err, store.ErrNotFound)
		}},
		{"EmptyListsRoundTrip", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			r := resource("bare")
			r.Scopes, r.IntrospectingClients, r.AccessTokenFormat, r.AccessTokenTTL = nil, []string{}, "", 0
			wantErr(t, "CreateResource", s.CreateResource(ctx, r), nil)
			got, err := s.Resource(ctx, r.ID)
			wantErr(t, "Resource", err, nil)
			mustEqual(t, "resource", got, wantResource(r))
		}},
		{"UniqueIDAndIndicator", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			a := resource("a")
			wantErr(t, "CreateResource", s.CreateResource(ctx, a), nil)
			sameID := resource("b")
			sameID.ID = a.ID
			wantErr(t, "same id", s.CreateResource(ctx, sameID), store.ErrConflict)
			sameURI := resource("c")
			sameURI.Indicator = a.Indicator
			wantErr(t, "same indicator", s.CreateResource(ctx, sameURI), store.ErrConflict)
			// Nothing of the refused ones was kept.
			list, err := s.ListResources(ctx)
			wantErr(t, "ListResources", err, nil)
			mustEqual(t, "list", len(list), 1)
			// An update may not take another's indicator either.
			b := resource("b")
			wantErr(t, "CreateResource b", s.CreateResource(ctx, b), nil)
			b.Indicator = a.Indicator
			wantErr(t, "update to a taken indicator", s.UpdateResource(ctx, b), store.ErrConflict)
			got, err := s.Resource(ctx, "res-b")
			wantErr(t, "Resource b", err, nil)
			mustEqual(t, "b unchanged", got, wantResource(resource("b")))
		}},
		{"ConcurrentCreatesOfOneIndicator", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			// Of racers creating the same indicator under different ids, one wins.
			errs := race(func(i int) error {
				r := resource("race")
				r.ID = fmt.Sprintf("res-race-%d", i)
				return s.CreateResource(ctx, r)
			})
			won := 0
			for _, err := range errs {
				switch {
				case err == nil:
					won++
				case !errors.Is(err, store.ErrConflict):
					t.Fatalf("a losing create: %v, want ErrConflict", err)
				}
			}
			list, err := s.ListResources(ctx)
			wantErr(t, "ListResources", err, nil)
			if won != 1 || len(list) != 1 {
				t.Fatalf("%d creates won, %d stored; want 1", won, len(list))
			}
		}},
		{"ListOrderedByIndicator", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			for _, n := range []string{"m", "z", "a"} {
				wantErr(t, "CreateResource "+n, s.CreateResource(ctx, resource(n)), nil)
			}
			list, err := s.ListResources(ctx)
			wantErr(t, "ListResources", err, nil)
			want := []*store.Resource{wantResource(resource("a")), wantResource(resource("m")), wantResource(resource("z"))}
			mustEqual(t, "list", list, want)
		}},
		{"UpdateAndDelete", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			r := resource("u")
			wantErr(t, "CreateResource", s.CreateResource(ctx, r), nil)
			up := *r
			up.Indicator, up.Name, up.Scopes = "https://api.example/u2", "renamed", []string{"u:admin"}
			up.AccessTokenFormat, up.AccessTokenTTL, up.IntrospectingClients = "jwt", time.Hour, nil
			up.CreatedAt, up.UpdatedAt = t0().Add(time.Hour), t0().Add(2*time.Hour) // CreatedAt is kept
			wantErr(t, "UpdateResource", s.UpdateResource(ctx, &up), nil)
			got, err := s.Resource(ctx, r.ID)
			wantErr(t, "Resource", err, nil)
			want := up
			want.CreatedAt = r.CreatedAt
			mustEqual(t, "updated", got, wantResource(&want))
			_, err = s.ResourceByIndicator(ctx, r.Indicator)
			wantErr(t, "old indicator", err, store.ErrNotFound)
			missing := resource("missing")
			wantErr(t, "update absent", s.UpdateResource(ctx, missing), store.ErrNotFound)
			wantErr(t, "DeleteResource", s.DeleteResource(ctx, r.ID), nil)
			wantErr(t, "delete again", s.DeleteResource(ctx, r.ID), store.ErrNotFound)
			_, err = s.Resource(ctx, r.ID)
			wantErr(t, "deleted", err, store.ErrNotFound)
		}},
	}
}
