package redistest

import (
	"io"
	"net"
	"sync"
	"testing"
)

// Mode is what a Proxy does with connections.
type Mode int

const (
	// Forward relays bytes both ways.
	Forward Mode = iota
	// Hang accepts connections and reads from them but never answers, like
	// a Redis that has stopped responding.
	Hang
	// Refuse closes every new connection at once, like a Redis that is down.
	Refuse
)

// Proxy is a TCP proxy to the test Redis that fails on cue, so that tests
// break the link without touching the shared server.
type Proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	mode  Mode
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup // the relaying goroutines
	done  chan struct{}  // closed when accept returns
}

// NewProxy starts a proxy to target in Forward mode; it stops when t ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	p := &Proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}, done: make(chan struct{})}
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// SetMode switches the mode for new connections; leaving Forward also drops
// the open ones, so that nothing keeps flowing through them.
func (p *Proxy) SetMode(m Mode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = m
	if m != Forward {
		for c := range p.conns {
			c.Close()
			delete(p.conns, c)
		}
	}
}

func (p *Proxy) close() {
	p.ln.Close()
	<-p.done // no connection is tracked after this
	p.SetMode(Refuse)
	p.wg.Wait()
}

func (p *Proxy) accept() {
	defer close(p.done)
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		mode := p.mode
		p.mu.Unlock()
		switch mode {
		case Refuse:
			c.Close()
		case Hang:
			p.track(c)
			p.wg.Go(func() { _, _ = io.Copy(io.Discard, c) })
		default:
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.track(c)
			p.track(up)
			p.wg.Go(func() { pipe(c, up) })
			p.wg.Go(func() { pipe(up, c) })
		}
	}
}

func (p *Proxy) track(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conns[c] = struct{}{}
}

func pipe(dst, src net.Conn) {
	// Errors are expected: dropping connections is this proxy's purpose.
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
}
