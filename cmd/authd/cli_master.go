package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/authd/authd/internal/config"
	"github.com/authd/authd/internal/keys"
)

const rotateMasterUsage = `usage: authd keys rotate-master --new-key-file FILE [--config FILE]

Wraps every data key (the keys that seal signing keys, tag opaque tokens,
sign forms and cookies, seal Redis values) again under the master key in
FILE: base64 of 32 bytes, e.g.

    umask 077; openssl rand -base64 32 > new-master-key

The current master key comes from AUTHD_MASTER_KEY, AUTHD_MASTER_KEY_FILE or
the data folder, as for serve. Servers keep serving meanwhile: they hold the
data keys in memory. Afterwards restart every replica with the new key
(AUTHD_MASTER_KEY or AUTHD_MASTER_KEY_FILE); everything issued before keeps
working, since the data keys themselves do not change. A replica that must
start before its configuration has the new key can keep the old one in
AUTHD_MASTER_KEY_PREVIOUS. With the embedded store and a generated key, the
data folder's master-key file is replaced (the old one is kept next to it as
master-key.previous until you delete it).`

// rotateMasterCmd is "authd keys rotate-master": it talks to the store
// directly, since the master key never goes over the admin API.
func rotateMasterCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var newKeyFile string
	cfg, _, err := loadConfig("keys rotate-master", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&newKeyFile, "new-key-file", "", "file holding the new master key (base64 of 32 bytes)")
		fs.Usage = func() { fmt.Fprintln(stdout, rotateMasterUsage) }
	})
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if newKeyFile == "" {
		fmt.Fprintln(stderr, rotateMasterUsage)
		return errors.New("--new-key-file is required")
	}
	b, err := os.ReadFile(newKeyFile)
	if err != nil {
		return err
	}
	raw, ok := config.DecodeMasterKey(strings.TrimSpace(string(b)))
	if !ok {
		return fmt.Errorf("%s must hold base64 of exactly 32 bytes", newKeyFile)
	}
	generated := len(cfg.MasterKey) == 0 // the data folder's own key
	if _, err := cfg.EnsureSecrets(); err != nil {
		return err
	}
	ring, err := masterRing(cfg)
	if err != nil {
		return err
	}
	to, err := keys.NewLocalMaster(raw)
	if err != nil {
		return err
	}
	if to.ID() == ring.Current.ID() {
		return errors.New("the new master key is the current one")
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	// Stored before it is wrapped again: a store that has never served has
	// no data keys yet, and they must exist under the current key first.
	if _, err := keys.LoadDataKeys(ctx, st, ring, time.Now()); err != nil {
		return err
	}
	n, err := keys.RotateMaster(ctx, st, ring, to, time.Now())
	if err != nil {
		return err
	}
	if generated {
		path := filepath.Join(cfg.DataDir, config.MasterKeyFile)
		if err := replaceKeyFile(path, strings.TrimSpace(string(b))); err != nil {
			return fmt.Errorf("the data keys are wrapped under the new key, but %s could not be replaced (put the new key there yourself): %w", path, err)
		}
	}
	fmt.Fprintf(stdout, "wrapped %d data keys again under master key %s (was %s); restart every replica with the new key\n",
		n, to.ID(), ring.Current.ID())
	return nil
}

// replaceKeyFile keeps the old key as path.previous and writes the new one
// in its place (0600, synced, renamed into place).
func replaceKeyFile(path, key string) error {
	if err := os.Rename(path, path+".previous"); err != nil {
		return err
	}
	tmp := path + ".new"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(key + "\n"); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
