//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockFile is the file in the data folder that serve holds an exclusive lock on.
const lockFile = "serve.lock"

// lockDataDir takes an exclusive lock on the data folder for the life of the
// process: two servers on one SQLite file would each trust their own
// in-process cache and disagree (a token revoked through one stays active on
// the other for the cache's lifetime). The kernel drops the lock when the
// process dies, however it dies, so there is never a stale lock to clear.
func lockDataDir(dir string) (release func(), err error) {
	path := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock data folder: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			who := "another authd"
			if pid := strings.TrimSpace(string(holder)); pid != "" {
				who += " (pid " + pid + ")"
			}
			return nil, fmt.Errorf("%s is already serving from %s; stop it first, or give this one its own AUTHD_DATA_DIR", who, dir)
		}
		return nil, fmt.Errorf("lock data folder: %w", err)
	}
	// Who holds it, for the message above; the lock, not the content, is what counts.
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() { f.Close() }, nil
}
