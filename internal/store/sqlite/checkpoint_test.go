package sqlite

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"testing"
	"time"

	"github.com/authd/authd/internal/store"
)

// TestCheckpoint: commits leave their pages in the WAL (the automatic
// checkpoint is only a far backstop), a checkpoint beside the writer moves
// them all into the database file, and a write during it is not held up.
func TestCheckpoint(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "ck.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	// More than SQLite's default threshold of 1000 pages, which would have
	// checkpointed inline.
	for i := 0; i < 60; i++ {
		batch := make([]*store.AccessToken, 100)
		for j := range batch {
			h := make([]byte, 32)
			_, _ = rand.Read(h)
			batch[j] = &store.AccessToken{Hash: h, ClientID: "c", Subject: "c", Scope: "read write", IssuedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
		}
		if err := d.CreateAccessTokens(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	frames, done, err := d.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if frames < 1000 || done != frames {
		t.Fatalf("WAL %d frames, %d checkpointed: want over 1000 left by the commits, all of them moved", frames, done)
	}
	// The checkpointer has a connection of its own: a write goes through
	// while the checkpointer's connection sits in a read transaction.
	tx, err := d.ck.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM access_tokens`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	h := make([]byte, 32)
	_, _ = rand.Read(h)
	wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := d.CreateAccessTokens(wctx, []*store.AccessToken{{Hash: h, ClientID: "c", Subject: "c", IssuedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}}); err != nil {
		t.Fatalf("a write while the checkpointer's connection reads: %v", err)
	}
	_ = tx.Rollback()
}

// TestRunCheckpointsStops: the loop ends with its context.
func TestRunCheckpointsStops(t *testing.T) {
	d, err := Open(context.Background(), filepath.Join(t.TempDir(), "ck.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.RunCheckpoints(ctx, time.Millisecond, func(err error) { t.Error(err) }); close(done) }()
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("RunCheckpoints did not stop")
	}
}
