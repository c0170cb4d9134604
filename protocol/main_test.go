package protocol

import (
	"bufio"
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/wslua/wslua/framing"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t testing.TB) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := ln.Accept()
		ch <- res{c, err}
	}()
	a, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	r := recv(t, "Accept", ch)
	require.NoError(t, r.err)
	t.Cleanup(func() { a.Close(); r.c.Close() })
	return a, r.c
}

// netPair returns the two ends of a connection over the named transport.
func netPair(t testing.TB, transport string) (net.Conn, net.Conn) {
	if transport == "pipe" {
		a, b := net.Pipe()
		t.Cleanup(func() { a.Close(); b.Close() })
		return a, b
	}
	return tcpPair(t)
}

var transports = []string{"pipe", "tcp"}

// connPair returns a client and a server Conn talking to each other; both
// are closed (CloseNow) when the test ends.
func connPair(t testing.TB, transport string, copts, sopts *Options) (*Conn, *Conn) {
	t.Helper()
	a, b := netPair(t, transport)
	if copts == nil {
		copts = &Options{}
	}
	if sopts == nil {
		sopts = &Options{}
	}
	copts.Role, sopts.Role = RoleClient, RoleServer
	cl := NewConn(a, nil, copts)
	sv := NewConn(b, nil, sopts)
	t.Cleanup(func() { cl.CloseNow(); sv.CloseNow() })
	return cl, sv
}

// rawPeer is the far end of a Conn, speaking raw frames over loopback TCP.
type rawPeer struct {
	t      testing.TB
	nc     net.Conn
	br     *bufio.Reader
	client bool // the raw side is the client: it masks what it sends
}

// withRaw returns a Conn of the given role whose peer is a rawPeer.
func withRaw(t testing.TB, role Role, opts *Options) (*Conn, *rawPeer) {
	t.Helper()
	a, b := tcpPair(t)
	if opts == nil {
		opts = &Options{}
	}
	opts.Role = role
	c := NewConn(a, nil, opts)
	t.Cleanup(func() { c.CloseNow() })
	return c, &rawPeer{t: t, nc: b, br: bufio.NewReader(b), client: role == RoleServer}
}

// frame builds a frame as this raw peer would send it (masked if client).
func (p *rawPeer) frame(op framing.Opcode, fin bool, payload []byte) []byte {
	h := framing.Header{Fin: fin, Opcode: op, Masked: p.client, Mask: [4]byte{1, 2, 3, 4}}
	return framing.AppendFrame(nil, h, payload)
}

func (p *rawPeer) write(b ...[]byte) {
	p.t.Helper()
	for _, x := range b {
		_, err := p.nc.Write(x)
		require.NoError(p.t, err)
	}
}

func (p *rawPeer) send(op framing.Opcode, fin bool, payload []byte) {
	p.t.Helper()
	p.write(p.frame(op, fin, payload))
}

// next reads one frame sent by the Conn, unmasked.
func (p *rawPeer) next() (framing.Header, []byte, error) {
	_ = p.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	h, err := framing.ReadHeader(p.br)
	if err != nil {
		return h, nil, err
	}
	if h.Length > 1<<26 {
		return h, nil, io.ErrShortBuffer
	}
	b := make([]byte, h.Length)
	if _, err := io.ReadFull(p.br, b); err != nil {
		return h, nil, err
	}
	if h.Masked {
		framing.Mask(h.Mask, 0, b)
	}
	return h, b, nil
}

// mustNext reads one frame and checks its masking for the Conn's role.
func (p *rawPeer) mustNext() (framing.Header, []byte) {
	p.t.Helper()
	h, b, err := p.next()
	require.NoError(p.t, err)
	require.Equal(p.t, !p.client, h.Masked, "masking of frames sent by the Conn")
	require.NoError(p.t, h.Check(0, !p.client))
	return h, b
}

// expectClose reads frames up to a close frame and returns its payload.
func (p *rawPeer) expectClose() []byte {
	p.t.Helper()
	for {
		h, b := p.mustNext()
		if h.Opcode == framing.OpClose {
			return b
		}
	}
}

// expectEOF checks that the Conn closed the connection.
func (p *rawPeer) expectEOF() {
	p.t.Helper()
	_ = p.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := io.Copy(io.Discard, p.br)
	require.NoError(p.t, err, "the Conn must close the TCP connection")
}

func closePayload(code StatusCode, reason string) []byte {
	return append([]byte{byte(code >> 8), byte(code)}, reason...)
}

func bg() context.Context { return context.Background() }

func bufioReader(c net.Conn) *bufio.Reader { return bufio.NewReader(c) }
