package postgres

import (
	"context"
	"testing"
	"time"
)

// Setting reads a server setting on one of the pool's connections.
func (d *DB) Setting(t *testing.T, name string) string {
	t.Helper()
	var v string
	if err := d.pool.QueryRow(t.Context(), `SELECT current_setting($1)`, name).Scan(&v); err != nil {
		t.Fatalf("current_setting(%s): %v", name, err)
	}
	return v
}

// Sleep runs pg_sleep(d) through the store's error mapping.
func (d *DB) Sleep(ctx context.Context, dur time.Duration) error {
	_, err := d.pool.Exec(ctx, `SELECT pg_sleep($1)`, dur.Seconds())
	return d.fail(ctx, "sleep", err)
}

// SleepAs runs pg_sleep(d) on a connection named app in pg_stat_activity.
func (d *DB) SleepAs(ctx context.Context, app string, dur time.Duration) error {
	_, err := d.pool.Exec(ctx, `SELECT set_config('application_name', $1, false), pg_sleep($2)`, app, dur.Seconds())
	return d.fail(ctx, "sleep", err)
}
