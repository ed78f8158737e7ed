package resource_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/authd/authd/internal/resource"
	"github.com/authd/authd/internal/store"
	"github.com/authd/authd/internal/testenv/clocktest"
	"github.com/authd/authd/internal/testenv/dbtest"
)

// change is one call of Options.Changed.
type change struct{ before, after string }

func indicator(r *store.Resource) string {
	if r == nil {
		return ""
	}
	return r.Indicator
}

func TestService(t *testing.T) {
	ctx := context.Background()
	clk := clocktest.New(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	var changes []change
	svc := resource.New(dbtest.SQLite(t), resource.Options{Now: clk.Now, MaxTokenTTL: time.Hour,
		Changed: func(_ context.Context, before, after *store.Resource) {
			changes = append(changes, change{indicator(before), indicator(after)})
		}})
	r, err := svc.Create(ctx, resource.Input{Resource: "https://api.example/", Scope: "a b a",
		IntrospectingClients: []string{"rs", "rs"}}, resource.Caller{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.ID) != 16 || len(r.Scopes) != 2 || len(r.IntrospectingClients) != 1 || !r.CreatedAt.Equal(clk.Now()) {
		t.Fatalf("created %+v", r)
	}
	clk.Advance(time.Minute)
	up, err := svc.Update(ctx, r.ID, resource.Input{Resource: "https://api.example/v2", AccessTokenTTL: 60}, resource.Caller{})
	if err != nil {
		t.Fatal(err)
	}
	if up.ID != r.ID || !up.CreatedAt.Equal(r.CreatedAt) || !up.UpdatedAt.Equal(clk.Now()) || up.AccessTokenTTL != time.Minute || up.Scopes != nil {
		t.Fatalf("updated %+v", up)
	}
	// A refused change changes nothing and drops no cache.
	if _, err := svc.Update(ctx, r.ID, resource.Input{Resource: "https://api.example/", AccessTokenTTL: 3601}, resource.Caller{}); err == nil {
		t.Fatal("ttl over MaxTokenTTL accepted")
	}
	if _, err := svc.Update(ctx, "nope", resource.Input{Resource: "urn:x"}, resource.Caller{}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update absent: %v", err)
	}
	if err := svc.Delete(ctx, "nope", resource.Caller{}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete absent: %v", err)
	}
	if err := svc.Delete(ctx, r.ID, resource.Caller{}); err != nil {
		t.Fatal(err)
	}
	want := []change{{"", "https://api.example/"}, {"https://api.example/", "https://api.example/v2"}, {"https://api.example/v2", ""}}
	if len(changes) != len(want) {
		t.Fatalf("changes = %v, want %v", changes, want)
	}
	for i := range want {
		if changes[i] != want[i] {
			t.Fatalf("changes = %v, want %v", changes, want)
		}
	}
}
