package main

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/authd/authd/internal/config"
)

// The listeners serve can be handed by a service manager instead of binding
// AUTHD_LISTEN and AUTHD_ADMIN_LISTEN itself: systemd socket activation
// (sd_listen_fds(3)), with FileDescriptorName=public and =admin. The socket
// then outlives restarts of authd, so a restart refuses no connection: the
// kernel queues them until the new process accepts. Tests use it too, to
// know the addresses before the process starts.
const (
	listenFDsStart = 3 // SD_LISTEN_FDS_START
	listenPublic   = "public"
	listenAdmin    = "admin"
)

// activationFDs reads the socket-activation variables: which descriptor
// carries which listener. Variables meant for another process (LISTEN_PID is
// not ours) or absent mean none. Names are required, since the two
// listeners' order is otherwise the order of the socket unit's lines.
func activationFDs(getenv func(string) string, pid int) (map[string]int, error) {
	if getenv("LISTEN_FDS") == "" {
		return nil, nil
	}
	if p, err := strconv.Atoi(getenv("LISTEN_PID")); err != nil || p != pid {
		return nil, nil // sd_listen_fds(3): not for this process
	}
	n, err := strconv.Atoi(getenv("LISTEN_FDS"))
	if err != nil || n < 1 || n > 2 {
		return nil, &config.Error{Key: "LISTEN_FDS", Msg: fmt.Sprintf("%q: want 1 or 2 sockets (public, admin)", getenv("LISTEN_FDS"))}
	}
	names := strings.Split(getenv("LISTEN_FDNAMES"), ":")
	if len(names) != n {
		return nil, &config.Error{Key: "LISTEN_FDNAMES", Msg: fmt.Sprintf("%q: want one name per socket (%d), each public or admin (FileDescriptorName= in the socket unit)", getenv("LISTEN_FDNAMES"), n)}
	}
	fds := make(map[string]int, n)
	for i, name := range names {
		if name != listenPublic && name != listenAdmin {
			return nil, &config.Error{Key: "LISTEN_FDNAMES", Msg: fmt.Sprintf("socket %d is named %q: want public or admin", i+1, name)}
		}
		if _, dup := fds[name]; dup {
			return nil, &config.Error{Key: "LISTEN_FDNAMES", Msg: fmt.Sprintf("two sockets named %q", name)}
		}
		fds[name] = listenFDsStart + i
	}
	return fds, nil
}

// inheritedListeners turns the descriptors activationFDs named into
// listeners. A descriptor that is not a listening stream socket is an error
// naming it.
func inheritedListeners(fds map[string]int) (map[string]net.Listener, error) {
	lns := make(map[string]net.Listener, len(fds))
	fail := func(err error) (map[string]net.Listener, error) {
		for _, ln := range lns {
			ln.Close()
		}
		return nil, err
	}
	for name, fd := range fds {
		f := os.NewFile(uintptr(fd), name)
		ln, err := net.FileListener(f) // a close-on-exec duplicate
		f.Close()
		if err != nil {
			return fail(&config.Error{Key: "LISTEN_FDS", Msg: fmt.Sprintf("socket %q (fd %d): %v", name, fd, err)})
		}
		lns[name] = ln
	}
	return lns, nil
}

// listen is the inherited listener if there is one, else a new one on addr.
func listen(inherited map[string]net.Listener, name, addr string) (net.Listener, error) {
	if ln, ok := inherited[name]; ok {
		return ln, nil
	}
	return net.Listen("tcp", addr)
}
