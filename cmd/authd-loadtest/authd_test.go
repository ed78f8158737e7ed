package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/testenv"
)

type lockedBuffer = testenv.Buffer

// authdServer is a real authd serve process a test started.
type authdServer struct {
	public, admin, adminToken string
	logs                      *lockedBuffer
}

// startAuthd builds authd from this tree (or takes AUTHD_LOADTEST_AUTHD, a
// binary built already) and runs it on the embedded store in a temporary data
// folder, on ports the kernel picks, with env added to a clean environment.
// It is stopped when the test ends.
func startAuthd(t *testing.T, env ...string) *authdServer {
	t.Helper()
	dir := t.TempDir()
	bin := os.Getenv("AUTHD_LOADTEST_AUTHD")
	if bin == "" {
		bin = filepath.Join(dir, "authd")
		build := exec.Command("go", "build", "-o", bin, "./cmd/authd")
		build.Dir = filepath.Join("..", "..") // the module root
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("build authd: %v\n%s", err, out)
		}
	}
	s := &authdServer{adminToken: randomString(32), logs: &lockedBuffer{}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	cmd := exec.CommandContext(ctx, bin, "serve")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"AUTHD_DATA_DIR=" + filepath.Join(dir, "data"), "AUTHD_LISTEN=127.0.0.1:0", "AUTHD_ADMIN_LISTEN=127.0.0.1:0",
		"AUTHD_ADMIN_TOKEN=" + s.adminToken}, env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		cancel()
	})
	// Its JSON log says where it listens: {"msg":"listening","public":…,"admin":…}.
	up := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			_, _ = s.logs.Write(append(sc.Bytes(), '\n'))
			var m struct{ Msg, Public, Admin string }
			if s.public == "" && json.Unmarshal(sc.Bytes(), &m) == nil && m.Msg == "listening" {
				s.public, s.admin = m.Public, m.Admin
				close(up)
			}
		}
		_, _ = io.Copy(s.logs, stderr)
	}()
	select {
	case <-up:
	case <-time.After(60 * time.Second):
		t.Fatalf("authd did not say where it listens:\n%s", s.logs.String())
	}
	if !strings.HasPrefix(s.public, "http://127.0.0.1:") || !strings.HasPrefix(s.admin, "http://127.0.0.1:") {
		t.Fatalf("authd listens on %s and %s, not loopback", s.public, s.admin)
	}
	return s
}
