package main

import (
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authd/authd/internal/config"
	"github.com/authd/authd/internal/testenv"
)

func TestActivationFDs(t *testing.T) {
	const pid = 4242
	for _, tc := range []struct {
		name    string
		env     map[string]string
		want    map[string]int
		wantKey string // the setting an error names
	}{
		{"none", map[string]string{}, nil, ""},
		{"both", map[string]string{"LISTEN_PID": "4242", "LISTEN_FDS": "2", "LISTEN_FDNAMES": "public:admin"},
			map[string]int{"public": 3, "admin": 4}, ""},
		{"either order", map[string]string{"LISTEN_PID": "4242", "LISTEN_FDS": "2", "LISTEN_FDNAMES": "admin:public"},
			map[string]int{"admin": 3, "public": 4}, ""},
		{"public only", map[string]string{"LISTEN_PID": "4242", "LISTEN_FDS": "1", "LISTEN_FDNAMES": "public"},
			map[string]int{"public": 3}, ""},
		// sd_listen_fds(3): variables for another process are not ours.
		{"another process's", map[string]string{"LISTEN_PID": "1", "LISTEN_FDS": "2", "LISTEN_FDNAMES": "public:admin"}, nil, ""},
		{"no pid", map[string]string{"LISTEN_FDS": "2", "LISTEN_FDNAMES": "public:admin"}, nil, ""},
		{"count not a number", map[string]string{"LISTEN_PID": "4242", "LISTEN_FDS": "two"}, nil, "LISTEN_FDS"},
		{"too many", map[string]string{"LISTEN_PID": "4242", "LISTEN_FDS": "3", "LISTEN_FDNAMES": "public:admin:x"}, nil, "LISTEN_FDS"},
		{"unnamed", map[string]string{"LISTEN_PID": "4242", "LISTEN_FDS": "2"}, nil, "LISTEN_FDNAMES"},
		{"unit's default name", map[string]string{"LISTEN_PID": "4242", "LISTEN_FDS": "1", "LISTEN_FDNAMES": "authd.socket"}, nil, "LISTEN_FDNAMES"},
		{"same name twice", map[string]string{"LISTEN_PID": "4242", "LISTEN_FDS": "2", "LISTEN_FDNAMES": "public:public"}, nil, "LISTEN_FDNAMES"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := activationFDs(func(k string) string { return tc.env[k] }, pid)
			if tc.wantKey != "" {
				var ce *config.Error
				if !errors.As(err, &ce) || ce.Key != tc.wantKey {
					t.Fatalf("error %v, want one naming %s", err, tc.wantKey)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// A descriptor that is not a socket is refused with its name, not served.
func TestInheritedListenerNotASocket(t *testing.T) {
	f, err := os.Create(t.TempDir() + "/x")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd, err := syscall.Dup(int(f.Fd())) // inheritedListeners closes it
	if err != nil {
		t.Fatal(err)
	}
	_, err = inheritedListeners(map[string]int{"public": fd})
	var ce *config.Error
	if !errors.As(err, &ce) || ce.Key != "LISTEN_FDS" {
		t.Fatalf("error %v, want one naming LISTEN_FDS", err)
	}
}

// TestSystemdSocketActivation runs authd under systemd's own implementation
// of the protocol (systemd-socket-activate, which passes on the sockets it
// was given with their names), so the variables are read as systemd writes
// them, not only as our tests do.
func TestSystemdSocketActivation(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs authd")
	}
	tool, err := exec.LookPath("systemd-socket-activate")
	if err != nil {
		if testenv.RequireServers() {
			t.Fatal("systemd-socket-activate is missing (Debian: apt-get install systemd); AUTHD_REQUIRE_SERVERS=1 forbids skipping")
		}
		t.Skip("needs systemd-socket-activate (Debian: apt-get install systemd)")
	}
	bin := buildBinary(t)
	// The tool passes on no environment but what -E names.
	cmd := exec.Command(tool, "--fdname=public:admin", "-E", "AUTHD_DATA_DIR="+t.TempDir(), "-E", "AUTHD_ADMIN_TOKEN="+strings.Repeat("a", 40), bin, "serve")
	socks := testenv.Activate(t, cmd)
	logs := &testenv.Buffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	socks.Started()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	c := &http.Client{Timeout: 30 * time.Second}
	for _, u := range []string{socks.Public + "/.well-known/openid-configuration", socks.Admin + "/admin/clients"} {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("Authorization", "Bearer "+strings.Repeat("a", 40))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v\n%s", u, err, logs.String())
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s\n%s", u, resp.StatusCode, body, logs.String())
		}
		// The default issuer is the address the inherited socket is bound to.
		var doc struct{ Issuer string }
		if strings.Contains(u, "openid-configuration") && (json.Unmarshal(body, &doc) != nil || doc.Issuer != socks.Public) {
			t.Errorf("discovery names %q as the issuer, want %s", doc.Issuer, socks.Public)
		}
	}
}
