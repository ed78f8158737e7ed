package sqlite

import (
	"context"
	"fmt"
	"time"
)

// backstopCheckpointPages is SQLite's own automatic checkpoint threshold
// here, far above its default of 1000 pages: RunCheckpoints keeps the WAL
// well below it, and it only matters when nothing runs them.
const backstopCheckpointPages = 20000

// Checkpoint copies what the WAL holds into the database file without
// waiting for readers or blocking the writer (PRAGMA wal_checkpoint(PASSIVE),
// https://sqlite.org/pragma.html#pragma_wal_checkpoint). It reports the
// WAL's frames and how many of them are now in the database file; fewer
// when a reader still needs the older ones, which a later call picks up.
func (d *DB) Checkpoint(ctx context.Context) (walFrames, checkpointed int, err error) {
	var busy int
	if err := d.ck.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &walFrames, &checkpointed); err != nil {
		return 0, 0, fmt.Errorf("sqlite: checkpoint: %w", err)
	}
	return walFrames, checkpointed, nil
}

// RunCheckpoints checkpoints every interval until ctx ends, so that no
// commit on the request path does it (see backstopCheckpointPages). Errors
// go to onError (nil: ignored); the next tick tries again.
func (d *DB) RunCheckpoints(ctx context.Context, every time.Duration, onError func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, _, err := d.Checkpoint(ctx); err != nil && ctx.Err() == nil && onError != nil {
				onError(err)
			}
		}
	}
}
