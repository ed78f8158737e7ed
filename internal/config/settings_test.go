package config

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the README's settings table")

// Every setting reaches its field: set alone (with what it needs), it
// changes the Config, and the value `authd config` shows for it.
func TestEverySettingReachesItsField(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "master-key")
	if err := os.WriteFile(keyFile, []byte("YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE=\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Settings that are only valid together with another.
	needs := map[string]map[string]string{
		"AUTHD_DATABASE_URL":       {"AUTHD_MASTER_KEY": "YmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmI="},
		"AUTHD_TLS_CERT_FILE":      {"AUTHD_TLS_KEY_FILE": "/k"},
		"AUTHD_TLS_KEY_FILE":       {"AUTHD_TLS_CERT_FILE": "/c"},
		"AUTHD_CLIENT_CERT_HEADER": {"AUTHD_TRUSTED_PROXIES": "10.0.0.0/8"},
	}
	base, err := build(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, s := range Settings() {
		t.Run(s.Key, func(t *testing.T) {
			if seen[s.Key] {
				t.Fatal("declared twice")
			}
			seen[s.Key] = true
			if s.Doc == "" || s.Example == "" {
				t.Fatal("a setting needs a doc line and an example")
			}
			vals := map[string]string{s.Key: s.Example}
			if s.Key == "AUTHD_MASTER_KEY_FILE" {
				vals[s.Key] = keyFile
			}
			for k, v := range needs[s.Key] {
				vals[k] = v
			}
			c, err := build(vals)
			if err != nil {
				t.Fatalf("example %q refused: %v", vals[s.Key], err)
			}
			if s.get(c) == s.get(base) {
				t.Fatalf("%s=%q left its value at %q", s.Key, vals[s.Key], s.get(c))
			}
			if reflect.DeepEqual(c, base) {
				t.Fatalf("%s=%q changed nothing in the Config", s.Key, vals[s.Key])
			}
			// And a value it must refuse is refused, naming the key (strings
			// that take anything excepted).
			if bad := "\x00not valid\x00"; !takesAnything[s.Key] {
				if _, err := build(map[string]string{s.Key: bad}); err == nil || !strings.Contains(err.Error(), s.Key) {
					t.Fatalf("%s=%q: err %v, want one naming the key", s.Key, bad, err)
				}
			}
		})
	}
}

// takesAnything are free-text settings whose every value is legal.
var takesAnything = map[string]bool{
	"AUTHD_DATA_DIR": true, "AUTHD_REDIS_PREFIX": true, "AUTHD_PRODUCT_NAME": true, "AUTHD_LOGO_FILE": true,
}

// The README's table is generated from Settings; `go test ./internal/config
// -run TestREADMETable -update` rewrites it.
func TestREADMETable(t *testing.T) {
	const begin, end = "<!-- settings: generated from internal/config/settings.go; go test ./internal/config -run TestREADMETable -update -->\n", "<!-- settings end -->\n"
	path := filepath.Join("..", "..", "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i, j := strings.Index(readme, begin), strings.Index(readme, end)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the generated settings table between %q and %q", strings.TrimSpace(begin), strings.TrimSpace(end))
	}
	got, want := readme[i+len(begin):j], Table()
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(readme[:i+len(begin)]+want+readme[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("README.md's settings table is stale; run go test ./internal/config -run TestREADMETable -update")
}
