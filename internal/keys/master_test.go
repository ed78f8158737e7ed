package keys_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/authd/authd/internal/keys"
)

// Data keys survive a master-key rotation unchanged, and an upgrade from
// derived keys keeps the values they had.
func TestDataKeysAcrossMasterRotation(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	a, _ := keys.NewLocalMaster(bytes.Repeat([]byte{1}, 32))
	b, _ := keys.NewLocalMaster(bytes.Repeat([]byte{2}, 32))
	if a.ID() == b.ID() || a.ID() == "" {
		t.Fatalf("ids %q %q", a.ID(), b.ID())
	}
	first, err := keys.LoadDataKeys(ctx, db, keys.Keyring{Current: a}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// An upgrade: the first data keys are what DeriveKey gave.
	want, _ := keys.DeriveKey(bytes.Repeat([]byte{1}, 32), keys.LabelTokenTag)
	if !bytes.Equal(first.TokenTag, want) {
		t.Fatal("the token-tag data key differs from the key derived before data keys existed")
	}
	n, err := keys.RotateMaster(ctx, db, keys.Keyring{Current: a}, b, time.Now())
	if err != nil || n != len(keys.Labels) {
		t.Fatalf("RotateMaster = %d, %v", n, err)
	}
	// Only the new key: same data keys.
	after, err := keys.LoadDataKeys(ctx, db, keys.Keyring{Current: b}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, pair := range [][2][]byte{{after.SigningKeys, first.SigningKeys}, {after.RedisCache, first.RedisCache},
		{after.TokenTag, first.TokenTag}, {after.CSRF, first.CSRF}, {after.LimiterNames, first.LimiterNames}, {after.DecoyParams, first.DecoyParams}} {
		if !bytes.Equal(pair[0], pair[1]) {
			t.Fatal("a data key changed with the master key")
		}
	}
	// Only the old key: refused, naming the missing master.
	if _, err := keys.LoadDataKeys(ctx, db, keys.Keyring{Current: a}, time.Now()); !errors.Is(err, keys.ErrUnknownMaster) {
		t.Fatalf("load with the old key only: %v", err)
	}
	// The old key as current, the new one as previous (a replica started from
	// a stale configuration during the roll-out): it opens.
	if _, err := keys.LoadDataKeys(ctx, db, keys.Keyring{Current: a, Previous: []keys.MasterKey{b}}, time.Now()); err != nil {
		t.Fatalf("load with the new key as previous: %v", err)
	}
	// Rotating again to the same key changes nothing.
	if n, err := keys.RotateMaster(ctx, db, keys.Keyring{Current: b}, b, time.Now()); err != nil || n != 0 {
		t.Fatalf("second RotateMaster = %d, %v", n, err)
	}
}
