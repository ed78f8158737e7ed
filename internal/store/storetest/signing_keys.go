package storetest

import (
	"testing"
	"time"

	"github.com/authd/authd/internal/store"
)

// keysAt returns the ids SigningKeys(now) lists, failing the test on error.
func keysAt(t *testing.T, s store.Store, now time.Time) []*store.SigningKey {
	t.Helper()
	keys, err := s.SigningKeys(t.Context(), now)
	wantErr(t, "SigningKeys", err, nil)
	return keys
}

func keyIDs(keys []*store.SigningKey) []string {
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID
	}
	return ids
}

func mustKeyIDs(t *testing.T, what string, keys []*store.SigningKey, want ...string) {
	t.Helper()
	got := keyIDs(keys)
	if len(got) != len(want) {
		t.Fatalf("%s: keys %q, want %q", what, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: keys %q, want %q", what, got, want)
		}
	}
}

func signingKeyCases() []testCase {
	return []testCase{
		{"FirstKeyRoundTrip", func(t *testing.T, s store.Store) {
			k1 := signingKey("k1", 0)
			wantErr(t, "RotateKey", s.RotateKey(t.Context(), k1, t0().Add(time.Hour)), nil)
			keys := keysAt(t, s, t0())
			mustKeyIDs(t, "after first rotation", keys, "k1")
			mustEqual(t, "key k1", gotKey(keys[0]), wantKey(k1))
		}},
		{"RotateKeepsOtherAlgorithmsCurrent", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			es, rs, es2 := signingKey("es", 0), signingKey("rs", time.Minute), signingKey("es2", 2*time.Minute)
			rs.Algorithm = "RS256"
			until := t0().Add(time.Hour)
			wantErr(t, "RotateKey es", s.RotateKey(ctx, es, until), nil)
			wantErr(t, "RotateKey rs", s.RotateKey(ctx, rs, until), nil)
			wantErr(t, "RotateKey es2", s.RotateKey(ctx, es2, until), nil)
			byID := map[string]*store.SigningKey{}
			for _, k := range keysAt(t, s, t0().Add(3*time.Minute)) {
				byID[k.ID] = k
			}
			if len(byID) != 3 {
				t.Fatalf("keys = %v, want es, rs, es2", byID)
			}
			if !byID["rs"].PublishUntil.IsZero() || !byID["es2"].PublishUntil.IsZero() {
				t.Fatalf("rotating ES256 retired another algorithm's key or the new one: rs=%v es2=%v", byID["rs"].PublishUntil, byID["es2"].PublishUntil)
			}
			if !byID["es"].PublishUntil.Equal(until.Truncate(time.Microsecond)) {
				t.Fatalf("old ES256 key PublishUntil = %v, want %v", byID["es"].PublishUntil, until)
			}
		}},
		{"RotateIsPerPurpose", func(t *testing.T, s store.Store) {
			// Access tokens and id_tokens both RS256: one series each, and a key
			// from before purposes is retired by a rotation of either.
			ctx := t.Context()
			legacy, acc, idt, acc2 := signingKey("legacy", 0), signingKey("acc", time.Minute), signingKey("idt", 2*time.Minute), signingKey("acc2", 3*time.Minute)
			for _, k := range []*store.SigningKey{legacy, acc, idt, acc2} {
				k.Algorithm = "RS256"
			}
			acc.Purpose, acc2.Purpose, idt.Purpose = "access", "access", "id_token"
			wantErr(t, "RotateKey legacy", s.RotateKey(ctx, legacy, t0().Add(time.Hour)), nil)
			wantErr(t, "RotateKey acc", s.RotateKey(ctx, acc, t0().Add(2*time.Hour)), nil)
			wantErr(t, "RotateKey idt", s.RotateKey(ctx, idt, t0().Add(3*time.Hour)), nil)
			wantErr(t, "RotateKey acc2", s.RotateKey(ctx, acc2, t0().Add(4*time.Hour)), nil)
			byID := map[string]*store.SigningKey{}
			for _, k := range keysAt(t, s, t0()) {
				byID[k.ID] = k
			}
			want := map[string]time.Time{
				"legacy": t0().Add(2 * time.Hour), // retired by the first purposed key of its algorithm
				"acc":    t0().Add(4 * time.Hour), // retired by acc2 only
				"idt":    {},                      // no id_token rotation since
				"acc2":   {},
			}
			for id, pu := range want {
				k := byID[id]
				if k == nil || !k.PublishUntil.Equal(wantTime(pu)) {
					t.Fatalf("key %s: %+v, want PublishUntil %v", id, k, pu)
				}
			}
			if byID["idt"].Purpose != "id_token" || byID["legacy"].Purpose != "" {
				t.Fatalf("purposes not stored: idt %q legacy %q", byID["idt"].Purpose, byID["legacy"].Purpose)
			}
		}},
		{"RotateRetiresOnlyCurrentKeys", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			pu1 := t0().Add(25*time.Hour + 789*time.Nanosecond)
			pu2 := t0().Add(50 * time.Hour)
			k1, k2, k3 := signingKey("k1", 0), signingKey("k2", time.Hour), signingKey("k3", 2*time.Hour)
			wantErr(t, "RotateKey k1", s.RotateKey(ctx, k1, t0()), nil)
			wantErr(t, "RotateKey k2", s.RotateKey(ctx, k2, pu1), nil)

			keys := keysAt(t, s, t0().Add(time.Hour))
			mustKeyIDs(t, "after k2", keys, "k2", "k1")
			mustEqual(t, "current key k2", gotKey(keys[0]), wantKey(k2))
			retired := *k1
			retired.PublishUntil = pu1
			mustEqual(t, "retired key k1", gotKey(keys[1]), wantKey(&retired))

			// k1 already has a PublishUntil; rotating again must not extend it.
			wantErr(t, "RotateKey k3", s.RotateKey(ctx, k3, pu2), nil)
			keys = keysAt(t, s, t0().Add(2*time.Hour))
			mustKeyIDs(t, "after k3", keys, "k3", "k2", "k1")
			if !keys[0].PublishUntil.IsZero() {
				t.Fatalf("current key k3 has PublishUntil %v, want zero", keys[0].PublishUntil)
			}
			if got, want := keys[1].PublishUntil, wantTime(pu2); !got.Equal(want) {
				t.Fatalf("k2 PublishUntil = %v, want %v", got, want)
			}
			if got, want := keys[2].PublishUntil, wantTime(pu1); !got.Equal(want) {
				t.Fatalf("k1 PublishUntil = %v, want %v (unchanged)", got, want)
			}

			// "After now" is strict: at PublishUntil the key is gone.
			mustKeyIDs(t, "just before k1's PublishUntil", keysAt(t, s, wantTime(pu1).Add(-time.Microsecond)), "k3", "k2", "k1")
			mustKeyIDs(t, "at k1's PublishUntil", keysAt(t, s, wantTime(pu1)), "k3", "k2")
			mustKeyIDs(t, "past both PublishUntil", keysAt(t, s, pu2.Add(time.Hour)), "k3")
		}},
		{"RotateDuplicateConflictsAtomically", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			wantErr(t, "RotateKey k1", s.RotateKey(ctx, signingKey("k1", 0), t0()), nil)
			wantErr(t, "RotateKey k2", s.RotateKey(ctx, signingKey("k2", time.Hour), t0().Add(24*time.Hour)), nil)
			dup := signingKey("k1", 2*time.Hour)
			wantErr(t, "RotateKey duplicate id", s.RotateKey(ctx, dup, t0().Add(48*time.Hour)), store.ErrConflict)
			// The failed rotation must not have retired k2.
			keys := keysAt(t, s, t0().Add(30*time.Hour))
			mustKeyIDs(t, "after failed rotation", keys, "k2")
			mustEqual(t, "k2 after failed rotation", gotKey(keys[0]), wantKey(signingKey("k2", time.Hour)))
		}},
		{"NewestFirstByCreatedAtThenID", func(t *testing.T, s store.Store) {
			ctx := t.Context()
			// Inserted out of creation order; "b" and "a" share a CreatedAt.
			for _, k := range []*store.SigningKey{
				signingKey("c", 2*time.Hour), signingKey("a", time.Hour), signingKey("old", 0), signingKey("b", time.Hour),
			} {
				wantErr(t, "RotateKey "+k.ID, s.RotateKey(ctx, k, t0().Add(72*time.Hour)), nil)
			}
			mustKeyIDs(t, "order", keysAt(t, s, t0()), "c", "b", "a", "old")
		}},
	}
}
