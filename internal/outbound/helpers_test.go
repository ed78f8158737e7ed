package outbound

import (
	"context"
	"encoding/binary"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/authd/authd/internal/testenv/metrictest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// start is where every test clock begins.
var start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testFetcher is a Fetcher with its own registry.
type testFetcher struct {
	*Fetcher
	reg *prometheus.Registry
}

func newFetcher(t testing.TB, opts Options) testFetcher {
	t.Helper()
	reg := prometheus.NewRegistry()
	opts.Registerer = reg
	f, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(f.Close)
	return testFetcher{f, reg}
}

func (f testFetcher) fetches(t testing.TB, result string) float64 {
	t.Helper()
	return metrictest.Value(t, f.reg, "authd_outbound_fetches_total", "result", result)
}

func (f testFetcher) hits(t testing.TB, state string) float64 {
	t.Helper()
	return metrictest.Value(t, f.reg, "authd_outbound_cache_hits_total", "state", state)
}

// counter counts the requests a handler serves.
type counter struct{ n atomic.Int64 }

func (c *counter) wrap(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c.n.Add(1)
		h(w, r)
	}
}

func (c *counter) get() int64 { return c.n.Load() }

// fakeDNS is a resolver whose every answer is addr (A queries for an IPv4
// addr, AAAA for an IPv6 one; the other type has no answer), served by a
// DNS server on 127.0.0.1, so that no query leaves the machine.
func fakeDNS(t *testing.T, addr netip.Addr) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp := dnsAnswer(buf[:n], addr); resp != nil {
				_, _ = pc.WriteTo(resp, from)
			}
		}
	}()
	t.Cleanup(func() { _ = pc.Close(); <-done })
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", pc.LocalAddr().String())
	}}
}

// dnsAnswer answers one DNS query (RFC 1035 §4.1) with addr.
func dnsAnswer(q []byte, addr netip.Addr) []byte {
	if len(q) < 12 {
		return nil
	}
	i := 12
	for i < len(q) && q[i] != 0 {
		i += int(q[i]) + 1
	}
	if i+5 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[i+1:])
	answers := 0
	if (qtype == 1 && addr.Is4()) || (qtype == 28 && addr.Is6()) {
		answers = 1
	}
	// ID, flags (response, recursion desired and available, no error),
	// one question, the answers, no authority or additional records.
	resp := append([]byte{q[0], q[1], 0x81, 0x80, 0, 1, 0, byte(answers), 0, 0, 0, 0}, q[12:i+5]...)
	if answers == 1 {
		ip := addr.AsSlice()
		// The name is a pointer to the question's; class IN, TTL 60.
		resp = append(resp, 0xc0, 12, 0, byte(qtype), 0, 1, 0, 0, 0, 60, 0, byte(len(ip)))
		resp = append(resp, ip...)
	}
	return resp
}

// pipeNet is an in-memory network for tests inside a synctest bubble:
// connections are net.Pipe, whose blocking is durable, so the bubble's
// clock moves while a request waits.
type pipeNet struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (p *pipeNet) Accept() (net.Conn, error) {
	select {
	case c := <-p.conns:
		return c, nil
	case <-p.done:
		return nil, net.ErrClosed
	}
}

func (p *pipeNet) Close() error {
	p.once.Do(func() { close(p.done) })
	return nil
}

func (p *pipeNet) Addr() net.Addr { return pipeAddr{} }

func (p *pipeNet) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case p.conns <- server:
		return client, nil
	case <-p.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// servePipe serves h on a pipeNet until stop.
func servePipe(h http.Handler) (p *pipeNet, stop func()) {
	p = &pipeNet{conns: make(chan net.Conn), done: make(chan struct{})}
	srv := &http.Server{Handler: h}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(p)
	}()
	return p, func() {
		_ = srv.Close()
		<-served
	}
}
