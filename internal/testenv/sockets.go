package testenv

import (
	"net"
	"os"
	"os/exec"
	"testing"
)

// Sockets hands an `authd serve` command its two listening sockets the way
// systemd socket activation does (LISTEN_FDS, LISTEN_FDNAMES, LISTEN_PID of
// the process itself), so a test knows the addresses before the process
// starts and reads none from its output. Connections made before the server
// accepts wait in the kernel's queue; once the process has exited they are
// refused, since the test closes its own copies when it has started.
type Sockets struct {
	Public, Admin string // http://127.0.0.1:port
	files         []*os.File
}

// Activate binds two loopback sockets on port 0 and rewrites cmd (as built
// by exec.Command(bin, args...)) to inherit them. Call Started after
// cmd.Start.
func Activate(t testing.TB, cmd *exec.Cmd) *Sockets {
	t.Helper()
	s := &Sockets{}
	for _, addr := range []*string{&s.Public, &s.Admin} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		f, err := ln.(*net.TCPListener).File()
		ln.Close() // f is a duplicate that keeps the socket
		if err != nil {
			t.Fatal(err)
		}
		*addr = "http://" + ln.Addr().String()
		s.files = append(s.files, f)
	}
	t.Cleanup(s.Started)
	// LISTEN_PID must be the pid of the process that reads it; exec keeps the
	// shell's.
	args := append([]string{"sh", "-c", `LISTEN_PID=$$ exec "$0" "$@"`, cmd.Path}, cmd.Args[1:]...)
	cmd.Path, cmd.Args = "/bin/sh", args
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, "LISTEN_FDS=2", "LISTEN_FDNAMES=public:admin")
	cmd.ExtraFiles = s.files // descriptors 3 and 4
	return s
}

// Started closes the test's copies of the sockets: the process holds its own.
func (s *Sockets) Started() {
	for _, f := range s.files {
		f.Close()
	}
	s.files = nil
}
