package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/internal/store"
)

func dataKeyCases() []testCase {
	key := func(label, master string) *store.DataKey {
		return &store.DataKey{Label: label, MasterID: master, Wrapped: sum(label + master), CreatedAt: t0(), UpdatedAt: t0()}
	}
	want := func(k *store.DataKey) *store.DataKey {
		x := *k
		x.CreatedAt, x.UpdatedAt = wantTime(k.CreatedAt), wantTime(k.UpdatedAt)
		return &x
	}
	return []testCase{
		{"AddKeepsTheFirst", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			got, err := s.AddDataKey(ctx, key("csrf", "m1"))
			wantErr(t, "AddDataKey", err, nil)
			mustEqual(t, "added key", got, want(key("csrf", "m1")))
			got, err = s.AddDataKey(ctx, key("csrf", "m2"))
			wantErr(t, "AddDataKey again", err, nil)
			mustEqual(t, "key after a second add", got, want(key("csrf", "m1")))
			_, err = s.AddDataKey(ctx, key("a-tag", "m1"))
			wantErr(t, "AddDataKey other", err, nil)
			all, err := s.DataKeys(ctx)
			wantErr(t, "DataKeys", err, nil)
			mustEqual(t, "all keys", all, []*store.DataKey{want(key("a-tag", "m1")), want(key("csrf", "m1"))})
		}},
		{"ConcurrentAddsAgree", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			const racers = 8
			got := make([]*store.DataKey, racers)
			var wg sync.WaitGroup
			for i := range racers {
				wg.Go(func() {
					k, err := s.AddDataKey(ctx, key("tag", string(rune('a'+i))))
					if err != nil {
						t.Errorf("AddDataKey %d: %v", i, err)
						return
					}
					got[i] = k
				})
			}
			wg.Wait()
			for i := range got {
				if got[i] == nil || got[i].MasterID != got[0].MasterID {
					t.Fatalf("racers got different keys: %v and %v", got[0], got[i])
				}
			}
		}},
		{"RewrapAllOrNone", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			for _, l := range []string{"a", "b"} {
				_, err := s.AddDataKey(ctx, key(l, "old"))
				wantErr(t, "AddDataKey", err, nil)
			}
			later := t0().Add(time.Hour)
			a, b := key("a", "new"), key("b", "new")
			a.UpdatedAt, b.UpdatedAt = later, later
			// A key not wrapped by the expected master: nothing changes.
			wantErr(t, "RewrapDataKeys from the wrong master", s.RewrapDataKeys(ctx, "other", []*store.DataKey{a, b}), store.ErrConflict)
			ghost := key("ghost", "new")
			wantErr(t, "RewrapDataKeys with an absent key", s.RewrapDataKeys(ctx, "old", []*store.DataKey{a, ghost}), store.ErrConflict)
			all, _ := s.DataKeys(ctx)
			for _, k := range all {
				if k.MasterID != "old" {
					t.Fatalf("a refused rewrap changed %s", k.Label)
				}
			}
			wantErr(t, "RewrapDataKeys", s.RewrapDataKeys(ctx, "old", []*store.DataKey{a, b}), nil)
			all, err := s.DataKeys(ctx)
			wantErr(t, "DataKeys", err, nil)
			wa, wb := want(a), want(b)
			wa.CreatedAt, wb.CreatedAt = wantTime(t0()), wantTime(t0())
			mustEqual(t, "rewrapped keys", all, []*store.DataKey{wa, wb})
		}},
	}
}
