package main

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func noenv(string) string { return "" }

func TestParseOptionsRefusesAndCaps(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string // "" = accepted
	}{
		{name: "defaults", args: nil},
		{name: "loopback v4", args: []string{"--target", "http://127.0.0.1:9000"}},
		{name: "loopback other 127", args: []string{"--target", "http://127.1.2.3:9000/"}},
		{name: "loopback v6", args: []string{"--target", "http://[::1]:9000"}},
		{name: "localhost", args: []string{"--target", "https://localhost:9443"}},
		{name: "private v4", args: []string{"--target", "http://10.0.0.1:8080"}, wantErr: "not a loopback"},
		{name: "private 192.168", args: []string{"--target", "http://192.168.1.10"}, wantErr: "not a loopback"},
		{name: "public name", args: []string{"--target", "http://example.com"}, wantErr: "not a loopback"},
		{name: "name that starts with localhost", args: []string{"--target", "http://localhost.example.com"}, wantErr: "not a loopback"},
		{name: "unspecified address", args: []string{"--target", "http://0.0.0.0:8080"}, wantErr: "not a loopback"},
		{name: "v4-mapped private", args: []string{"--target", "http://[::ffff:10.0.0.1]:80"}, wantErr: "not a loopback"},
		{name: "no scheme", args: []string{"--target", "127.0.0.1:8080"}, wantErr: "http://"},
		{name: "credentials in URL", args: []string{"--target", "http://u:p@127.0.0.1"}, wantErr: "no credentials"},
		{name: "admin elsewhere", args: []string{"--admin", "http://172.16.0.5:8081"}, wantErr: "--admin"},
		{name: "baseline elsewhere", args: []string{"--baseline", "http://8.8.8.8"}, wantErr: "--baseline"},
		{name: "baseline in process", args: []string{"--baseline", "inprocess"}},
		{name: "duration over cap", args: []string{"--duration", "6m"}, wantErr: "--duration"},
		{name: "duration at cap", args: []string{"--duration", "5m"}},
		{name: "duration zero", args: []string{"--duration", "0s"}, wantErr: "--duration"},
		{name: "max requests zero", args: []string{"--max-requests", "0"}, wantErr: "--max-requests"},
		{name: "max requests over cap", args: []string{"--max-requests", "50000001"}, wantErr: "--max-requests"},
		{name: "negative rate", args: []string{"--rate", "-1"}, wantErr: "--rate"},
		{name: "rate over cap", args: []string{"--rate", "500001"}, wantErr: "--rate"},
		{name: "no workers", args: []string{"--workers", "0"}, wantErr: "--workers"},
		{name: "too many workers", args: []string{"--workers", "5000", "--max-workers", "5000"}, wantErr: "--workers"},
		{name: "max workers below workers", args: []string{"--workers", "64", "--max-workers", "8"}, wantErr: "--max-workers"},
		{name: "timeout over cap", args: []string{"--timeout", "2m"}, wantErr: "--timeout"},
		{name: "token pool empty", args: []string{"--tokens", "0"}, wantErr: "--tokens"},
		{name: "users over cap", args: []string{"--users", "1001"}, wantErr: "--users"},
		{name: "bad via", args: []string{"--via", "carrier-pigeon"}, wantErr: "--via"},
		{name: "bad batch format", args: []string{"--batch-format", "xml"}, wantErr: "--batch-format"},
		{name: "unknown scenario", args: []string{"--scenarios", "token-jwt,ddos"}, wantErr: `unknown scenario "ddos"`},
		{name: "no scenario", args: []string{"--scenarios", ","}, wantErr: "at least one"},
		{name: "stray argument", args: []string{"extra"}, wantErr: "unexpected argument"},
		{name: "mix", args: []string{"--scenarios", "mixed", "--mix", "token:20,introspect:70,userinfo:10"}},
		{name: "bad mix", args: []string{"--mix", "token:0"}, wantErr: "--mix"},
		{name: "fail-if", args: []string{"--fail-if", "p99>50ms,errors>1%"}},
		{name: "bad fail-if", args: []string{"--fail-if", "p99>fast"}, wantErr: "--fail-if"},
		{name: "stress ramp", args: []string{"--scenarios", "stress", "--stress-start", "10", "--stress-step", "5", "--stress-max-rate", "50"}},
		{name: "stress start zero", args: []string{"--stress-start", "0"}, wantErr: "--stress-start"},
		{name: "stress step zero", args: []string{"--stress-step", "0"}, wantErr: "--stress-step"},
		{name: "stress max below start", args: []string{"--stress-start", "500", "--stress-max-rate", "100"}, wantErr: "--stress-max-rate"},
		{name: "stress max over cap", args: []string{"--stress-max-rate", "500001"}, wantErr: "--stress-max-rate"},
		{name: "stress step too short", args: []string{"--stress-step-duration", "10ms"}, wantErr: "--stress-step-duration"},
		{name: "stress step too long", args: []string{"--stress-step-duration", "2m"}, wantErr: "--stress-step-duration"},
		{name: "stress p99 zero", args: []string{"--stress-p99", "0s"}, wantErr: "--stress-p99"},
		{name: "stress errors over 100", args: []string{"--stress-errors", "101"}, wantErr: "--stress-errors"},
		{name: "stress errors NaN", args: []string{"--stress-errors", "NaN"}, wantErr: "--stress-errors"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseOptions("run", tc.args, noenv, io.Discard)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("accepted; want an error containing %q", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("error %q; want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestParseOptionsNormalisesAndDefaults(t *testing.T) {
	o, err := parseOptions("run", []string{"--target", "http://127.0.0.1:9000/", "--scenarios", " jwks , token-jwt "}, noenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.target != "http://127.0.0.1:9000" {
		t.Errorf("target = %q; want the trailing slash gone", o.target)
	}
	if got := strings.Join(o.scenarios, ","); got != "jwks,token-jwt" {
		t.Errorf("scenarios = %q", got)
	}
	s := o.attackSettings()
	if s.Duration != 10*time.Second || s.Workers != 64 || s.Rate != 0 || s.MaxRequests != defaultMaxRequests {
		t.Errorf("default settings = %+v", s)
	}
}

func TestAdminTokenResolution(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "admin-token"), []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{name: "flag wins", args: []string{"--admin-token", "from-flag"}, env: map[string]string{"AUTHD_ADMIN_TOKEN": "from-env", "AUTHD_DATA_DIR": dir}, want: "from-flag"},
		{name: "environment", env: map[string]string{"AUTHD_ADMIN_TOKEN": "from-env", "AUTHD_DATA_DIR": dir}, want: "from-env"},
		{name: "file in the data dir", env: map[string]string{"AUTHD_DATA_DIR": dir}, want: "from-file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseOptions("setup", tc.args, env(tc.env), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			got, err := o.resolveAdminToken()
			if err != nil || got != tc.want {
				t.Fatalf("token = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	o, err := parseOptions("setup", []string{"--admin-token-file", filepath.Join(dir, "missing")}, noenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.resolveAdminToken(); err == nil {
		t.Fatal("a missing token file was accepted")
	}
}

func TestCheckLoopbackListen(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:0":    true,
		"[::1]:8080":     true,
		"localhost:1":    true,
		":8080":          false, // every interface
		"0.0.0.0:8080":   false,
		"10.1.1.1:8080":  false,
		"127.0.0.1":      false, // no port
		"example.org:80": false,
	} {
		if err := checkLoopbackListen("listen", addr); (err == nil) != ok {
			t.Errorf("checkLoopbackListen(%q) = %v; want ok=%v", addr, err, ok)
		}
	}
}

// TestLoopbackDialRefusesBeforeConnecting checks the dialer's own guard: it
// must refuse a non-loopback address without sending a packet.
func TestLoopbackDialRefusesBeforeConnecting(t *testing.T) {
	dial := loopbackDial(&net.Dialer{Timeout: time.Second})
	for _, addr := range []string{"10.1.2.3:80", "192.0.2.1:443", "[2001:db8::1]:80"} {
		conn, err := dial(context.Background(), "tcp", addr)
		if conn != nil {
			conn.Close()
		}
		if !errors.Is(err, errNotLoopback) {
			t.Errorf("dial %s: %v; want errNotLoopback", addr, err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conn, err := dial(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial loopback: %v", err)
	}
	conn.Close()
}

func TestRunRefusesNonLoopbackBeforeAnyTraffic(t *testing.T) {
	err := run(context.Background(), []string{"token-jwt", "--target", "http://203.0.113.7:8080", "--admin-token", "x"}, noenv, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "not a loopback") {
		t.Fatalf("run = %v; want a loopback refusal", err)
	}
	err = run(context.Background(), []string{"baseline", "--listen", "0.0.0.0:0"}, noenv, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "not a loopback") {
		t.Fatalf("baseline = %v; want a loopback refusal", err)
	}
	err = run(context.Background(), []string{"baseline", "--max-lifetime", "48h"}, noenv, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--max-lifetime") {
		t.Fatalf("baseline = %v; want a lifetime refusal", err)
	}
}
