package config

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Names of the files generated secrets are kept in, inside the data folder.
const (
	AdminTokenFile = "admin-token"
	MasterKeyFile  = "master-key"
)

// EnsureSecrets fills AdminToken and MasterKey from files in DataDir, generating
// and storing them (mode 0600) when unset. It returns the paths it used so the
// caller can log where they are; it never returns their values.
func (c *Config) EnsureSecrets() (generated []string, err error) {
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, &Error{"AUTHD_DATA_DIR", err.Error()}
	}
	if c.AdminToken == "" {
		tok, path, err := loadOrCreate(filepath.Join(c.DataDir, AdminTokenFile), func(b []byte) string {
			return base64.RawURLEncoding.EncodeToString(b)
		})
		if err != nil {
			return nil, err
		}
		c.AdminToken = tok
		generated = append(generated, path)
	}
	if len(c.MasterKey) == 0 {
		s, path, err := loadOrCreate(filepath.Join(c.DataDir, MasterKeyFile), func(b []byte) string {
			return base64.StdEncoding.EncodeToString(b)
		})
		if err != nil {
			return nil, err
		}
		c.MasterKey, err = base64.StdEncoding.DecodeString(s)
		if err != nil || len(c.MasterKey) != 32 {
			return nil, &Error{"AUTHD_MASTER_KEY", path + " does not hold base64 of 32 bytes"}
		}
		generated = append(generated, path)
	}
	return generated, nil
}

// loadOrCreate reads a secret file, or creates it with 32 random bytes encoded
// by enc. O_EXCL makes two processes starting at once agree on one value.
func loadOrCreate(path string, enc func([]byte) string) (string, string, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(data)), path, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", "", fmt.Errorf("config: read %s: %w", path, err)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", err
	}
	v := enc(b[:])
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return loadOrCreate(path, enc)
	}
	if err != nil {
		return "", "", fmt.Errorf("config: create %s: %w", path, err)
	}
	if _, err := f.WriteString(v + "\n"); err != nil {
		f.Close()
		return "", "", fmt.Errorf("config: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", "", err
	}
	return v, path, f.Close()
}
