package config

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := Load("", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:8080" || c.AdminListen != "127.0.0.1:8081" {
		t.Errorf("listen = %s, %s", c.Listen, c.AdminListen)
	}
	if c.Issuer != "http://127.0.0.1:8080" {
		t.Errorf("issuer = %s", c.Issuer)
	}
	if !c.Embedded() || c.DataDir != "authd-data" || c.SigningAlg != "ES256" || !c.AutoMigrate {
		t.Errorf("unexpected defaults: %+v", c)
	}
	if c.KeyRetain <= c.MaxTokenTTL {
		t.Errorf("KeyRetain %v must exceed MaxTokenTTL %v", c.KeyRetain, c.MaxTokenTTL)
	}
}

func TestInvalidNamesKey(t *testing.T) {
	key32 := base64.StdEncoding.EncodeToString(make([]byte, 32))
	tests := []struct {
		name    string
		env     map[string]string
		wantKey string
	}{
		{"bad listen", map[string]string{"AUTHD_LISTEN": "nope"}, "AUTHD_LISTEN"},
		{"bad port", map[string]string{"AUTHD_ADMIN_LISTEN": "127.0.0.1:99999"}, "AUTHD_ADMIN_LISTEN"},
		{"issuer with query", map[string]string{"AUTHD_ISSUER": "https://a.example/?x=1"}, "AUTHD_ISSUER"},
		{"issuer not url", map[string]string{"AUTHD_ISSUER": "auth.example"}, "AUTHD_ISSUER"},
		{"issuer trailing slash", map[string]string{"AUTHD_ISSUER": "https://a.example/"}, "AUTHD_ISSUER"},
		{"database mysql", map[string]string{"AUTHD_DATABASE_URL": "mysql://x"}, "AUTHD_DATABASE_URL"},
		{"postgres without master key", map[string]string{"AUTHD_DATABASE_URL": "postgres://x/y"}, "AUTHD_MASTER_KEY"},
		{"short master key", map[string]string{"AUTHD_MASTER_KEY": base64.StdEncoding.EncodeToString(make([]byte, 16))}, "AUTHD_MASTER_KEY"},
		{"master key not base64", map[string]string{"AUTHD_MASTER_KEY": "!!!"}, "AUTHD_MASTER_KEY"},
		{"short admin token", map[string]string{"AUTHD_ADMIN_TOKEN": "short"}, "AUTHD_ADMIN_TOKEN"},
		{"log level", map[string]string{"AUTHD_LOG_LEVEL": "loud"}, "AUTHD_LOG_LEVEL"},
		{"alg", map[string]string{"AUTHD_SIGNING_ALG": "HS256"}, "AUTHD_SIGNING_ALG"},
		{"ttl", map[string]string{"AUTHD_ACCESS_TOKEN_TTL": "soon"}, "AUTHD_ACCESS_TOKEN_TTL"},
		{"ttl negative", map[string]string{"AUTHD_ACCESS_TOKEN_TTL": "-5s"}, "AUTHD_ACCESS_TOKEN_TTL"},
		{"ttl over max", map[string]string{"AUTHD_ACCESS_TOKEN_TTL": "48h"}, "AUTHD_ACCESS_TOKEN_TTL"},
		{"body", map[string]string{"AUTHD_MAX_BODY_BYTES": "10"}, "AUTHD_MAX_BODY_BYTES"},
		{"migrate", map[string]string{"AUTHD_AUTO_MIGRATE": "perhaps"}, "AUTHD_AUTO_MIGRATE"},
		{"redis", map[string]string{"AUTHD_REDIS_URL": "http://x"}, "AUTHD_REDIS_URL"},
		{"rate", map[string]string{"AUTHD_RATE_LIMIT_IP": "-1"}, "AUTHD_RATE_LIMIT_IP"},
		{"lockout", map[string]string{"AUTHD_LOCKOUT_FAILURES": "101"}, "AUTHD_LOCKOUT_FAILURES"},
		{"proxies", map[string]string{"AUTHD_TRUSTED_PROXIES": "10.0.0.0/8, nope"}, "AUTHD_TRUSTED_PROXIES"},
		{"conns", map[string]string{"AUTHD_DB_MAX_CONNS": "0", "AUTHD_MASTER_KEY": key32}, "AUTHD_DB_MAX_CONNS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("", env(tc.env))
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if ce.Key != tc.wantKey {
				t.Fatalf("key = %s, want %s (%v)", ce.Key, tc.wantKey, err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func TestFileThenEnv(t *testing.T) {
	dir := t.TempDir()
	yml := filepath.Join(dir, "authd.yaml")
	if err := os.WriteFile(yml, []byte("listen: 127.0.0.1:9000\nAUTHD_ACCESS_TOKEN_TTL: 600\nlog_level: debug\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	toml := filepath.Join(dir, "authd.toml")
	if err := os.WriteFile(toml, []byte("listen = \"127.0.0.1:9000\"\naccess_token_ttl = \"10m\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{yml, toml} {
		c, err := Load(p, env(map[string]string{"AUTHD_ADMIN_LISTEN": "127.0.0.1:9001"}))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if c.Listen != "127.0.0.1:9000" || c.AdminListen != "127.0.0.1:9001" || c.AccessTokenTTL != 10*time.Minute {
			t.Errorf("%s: %+v", p, c)
		}
		// The environment wins over the file.
		c, err = Load(p, env(map[string]string{"AUTHD_LISTEN": "127.0.0.1:7000"}))
		if err != nil || c.Listen != "127.0.0.1:7000" {
			t.Errorf("%s: env did not win: %v %v", p, c, err)
		}
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("lisen: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(bad, env(nil)); err == nil || !strings.Contains(err.Error(), "unknown setting") {
		t.Errorf("typo in file: err = %v", err)
	}
	if _, err := Load(filepath.Join(dir, "x.ini"), env(nil)); err == nil {
		t.Error("unsupported extension accepted")
	}
}

func TestEnsureSecrets(t *testing.T) {
	dir := t.TempDir()
	c, err := Load("", env(map[string]string{"AUTHD_DATA_DIR": dir}))
	if err != nil {
		t.Fatal(err)
	}
	paths, err := c.EnsureSecrets()
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 2 || len(c.MasterKey) != 32 || len(c.AdminToken) < 32 {
		t.Fatalf("paths=%v key=%d token=%d", paths, len(c.MasterKey), len(c.AdminToken))
	}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", p, fi.Mode().Perm())
		}
	}
	// A second start reads the same values.
	c2, _ := Load("", env(map[string]string{"AUTHD_DATA_DIR": dir}))
	if _, err := c2.EnsureSecrets(); err != nil {
		t.Fatal(err)
	}
	if c2.AdminToken != c.AdminToken || string(c2.MasterKey) != string(c.MasterKey) {
		t.Error("secrets changed between starts")
	}
}

func TestRefreshReuseGrace(t *testing.T) {
	tests := []struct {
		value   string
		want    time.Duration
		wantErr bool
	}{
		{"", 2 * time.Second, false},
		{"0", 0, false},
		{"0s", 0, false},
		{"500ms", 500 * time.Millisecond, false},
		{"2m", 0, true},
		{"soon", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.value, func(t *testing.T) {
			c, err := Load("", env(map[string]string{"AUTHD_REFRESH_REUSE_GRACE": tc.value}))
			if tc.wantErr {
				var ce *Error
				if !errors.As(err, &ce) || ce.Key != "AUTHD_REFRESH_REUSE_GRACE" {
					t.Fatalf("err = %v, want one naming AUTHD_REFRESH_REUSE_GRACE", err)
				}
				return
			}
			if err != nil || c.RefreshReuseGrace != tc.want {
				t.Fatalf("= %v, %v; want %v", c.RefreshReuseGrace, err, tc.want)
			}
		})
	}
}

func TestMasterKeySources(t *testing.T) {
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	other := base64.RawURLEncoding.EncodeToString([]byte("fedcba9876543210fedcba9876543210"))
	dir := t.TempDir()
	good := filepath.Join(dir, "key")
	if err := os.WriteFile(good, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		env      map[string]string
		wantErr  string // the key the error names; "" for success
		wantPrev int
	}{
		{"env", map[string]string{"AUTHD_MASTER_KEY": key}, "", 0},
		{"file", map[string]string{"AUTHD_MASTER_KEY_FILE": good}, "", 0},
		{"both", map[string]string{"AUTHD_MASTER_KEY": key, "AUTHD_MASTER_KEY_FILE": good}, "AUTHD_MASTER_KEY_FILE", 0},
		{"missing file", map[string]string{"AUTHD_MASTER_KEY_FILE": filepath.Join(dir, "nope")}, "AUTHD_MASTER_KEY_FILE", 0},
		{"bad file", map[string]string{"AUTHD_MASTER_KEY_FILE": bad}, "AUTHD_MASTER_KEY_FILE", 0},
		{"previous", map[string]string{"AUTHD_MASTER_KEY": key, "AUTHD_MASTER_KEY_PREVIOUS": other + ", " + key}, "", 2},
		{"bad previous", map[string]string{"AUTHD_MASTER_KEY": key, "AUTHD_MASTER_KEY_PREVIOUS": "nope"}, "AUTHD_MASTER_KEY_PREVIOUS", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load("", env(tc.env))
			if tc.wantErr != "" {
				var ce *Error
				if !errors.As(err, &ce) || ce.Key != tc.wantErr {
					t.Fatalf("err = %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil || string(c.MasterKey) != "0123456789abcdef0123456789abcdef" || len(c.PreviousMasterKeys) != tc.wantPrev {
				t.Fatalf("= %v, %d previous, %v", c.MasterKey, len(c.PreviousMasterKeys), err)
			}
		})
	}
}

// Settings that only make sense together are refused apart, naming the key.
func TestTLSSettings(t *testing.T) {
	for _, tc := range []struct {
		name       string
		env        map[string]string
		wantErr    string
		wantIssuer string
	}{
		{"cert without key", map[string]string{"AUTHD_TLS_CERT_FILE": "/c"}, "AUTHD_TLS_KEY_FILE", ""},
		{"key without cert", map[string]string{"AUTHD_TLS_KEY_FILE": "/k"}, "AUTHD_TLS_KEY_FILE", ""},
		{"TLS makes the default issuer https", map[string]string{"AUTHD_TLS_CERT_FILE": "/c", "AUTHD_TLS_KEY_FILE": "/k"}, "", "https://127.0.0.1:8080"},
		{"a header without trusted proxies", map[string]string{"AUTHD_CLIENT_CERT_HEADER": "X-Forwarded-Client-Cert"}, "AUTHD_CLIENT_CERT_HEADER", ""},
		{"a header that is not a name", map[string]string{"AUTHD_CLIENT_CERT_HEADER": "X Client Cert", "AUTHD_TRUSTED_PROXIES": "10.0.0.0/8"}, "AUTHD_CLIENT_CERT_HEADER", ""},
		{"a header from trusted proxies", map[string]string{"AUTHD_CLIENT_CERT_HEADER": "Client-Cert", "AUTHD_TRUSTED_PROXIES": "10.0.0.0/8"}, "", "http://127.0.0.1:8080"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load("", env(tc.env))
			if tc.wantErr != "" {
				var ce *Error
				if !errors.As(err, &ce) || ce.Key != tc.wantErr {
					t.Fatalf("err = %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil || c.Issuer != tc.wantIssuer {
				t.Fatalf("issuer %q, err %v; want %q", c.Issuer, err, tc.wantIssuer)
			}
		})
	}
}
