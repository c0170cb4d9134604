package testserver

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/framing"
)

// safetyTimeout keeps a broken test from hanging; nothing asserts on it.
const safetyTimeout = 20 * time.Second

// testKey is the sample nonce of RFC 6455, section 1.3.
const testKey = "dGhlIHNhbXBsZSBub25jZQ=="

// rawClient is a hand-written WebSocket client: it writes the upgrade
// request and frames byte by byte, so tests see exactly what the server
// sends.
type rawClient struct {
	t    *testing.T
	nc   net.Conn
	br   *bufio.Reader
	resp *http.Response
}

// newServer starts a test server that is closed at the end of the test.
func newServer(t *testing.T, opts *Options) *Server {
	t.Helper()
	s := New(opts)
	t.Cleanup(s.Close)
	return s
}

// dialRaw connects to s and sends an upgrade request for target (path and
// query). It returns the client with the parsed response, whatever its
// status.
func dialRaw(t *testing.T, s *Server, target string, extra ...string) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", s.Addr())
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	require.NoError(t, nc.SetDeadline(time.Now().Add(safetyTimeout)))
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n", target, s.Addr())
	fmt.Fprintf(&b, "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", testKey)
	for i := 0; i+1 < len(extra); i += 2 {
		fmt.Fprintf(&b, "%s: %s\r\n", extra[i], extra[i+1])
	}
	b.WriteString("\r\n")
	_, err = io.WriteString(nc, b.String())
	require.NoError(t, err)
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	return &rawClient{t: t, nc: nc, br: br, resp: resp}
}

// upgrade is dialRaw requiring a valid 101 answer.
func upgrade(t *testing.T, s *Server, target string, extra ...string) *rawClient {
	t.Helper()
	c := dialRaw(t, s, target, extra...)
	require.Equal(t, http.StatusSwitchingProtocols, c.resp.StatusCode)
	sum := sha1.Sum([]byte(testKey + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	require.Equal(t, base64.StdEncoding.EncodeToString(sum[:]), c.resp.Header.Get("Sec-WebSocket-Accept"))
	return c
}

// send writes one masked frame.
func (c *rawClient) send(fin bool, op framing.Opcode, payload []byte) {
	c.t.Helper()
	h := framing.Header{Fin: fin, Opcode: op, Masked: true, Mask: [4]byte{0xa1, 0x02, 0xc3, 0x44}}
	_, err := c.nc.Write(framing.AppendFrame(nil, h, payload))
	require.NoError(c.t, err)
}

// sendClose writes a masked close frame with code and reason.
func (c *rawClient) sendClose(code uint16, reason string) {
	c.t.Helper()
	c.send(true, framing.OpClose, append(binary.BigEndian.AppendUint16(nil, code), reason...))
}

// readN reads exactly n bytes.
func (c *rawClient) readN(n int) []byte {
	c.t.Helper()
	b := make([]byte, n)
	_, err := io.ReadFull(c.br, b)
	require.NoError(c.t, err)
	return b
}

// frame reads one frame, requiring it to be unmasked.
func (c *rawClient) frame() (framing.Header, []byte) {
	c.t.Helper()
	h, err := framing.ReadHeader(c.br)
	require.NoError(c.t, err)
	require.False(c.t, h.Masked, "server frames are never masked")
	require.LessOrEqual(c.t, h.Length, int64(64<<20))
	p := make([]byte, h.Length)
	_, err = io.ReadFull(c.br, p)
	require.NoError(c.t, err)
	return h, p
}

// message reads one data message, reassembling fragments; control frames
// in between must not occur.
func (c *rawClient) message() (framing.Opcode, []byte) {
	c.t.Helper()
	h, p := c.frame()
	require.Contains(c.t, []framing.Opcode{framing.OpText, framing.OpBinary}, h.Opcode, "got %v frame", h.Opcode)
	op := h.Opcode
	for !h.Fin {
		var q []byte
		h, q = c.frame()
		require.Equal(c.t, framing.OpContinuation, h.Opcode)
		p = append(p, q...)
	}
	return op, p
}

// expectEOF requires the server to close the TCP connection next. A reset
// counts as closed: the server closing with unread data makes one.
func (c *rawClient) expectEOF() {
	c.t.Helper()
	b, err := c.br.ReadByte()
	require.Error(c.t, err, "got byte %#x", b)
	if !strings.Contains(err.Error(), "connection reset") {
		require.ErrorIs(c.t, err, io.EOF)
	}
}

// expectSilence requires nothing to arrive within a short wait. It asserts
// the absence of data, not a duration.
func (c *rawClient) expectSilence() {
	c.t.Helper()
	require.NoError(c.t, c.nc.SetReadDeadline(time.Now().Add(100*time.Millisecond)))
	_, err := c.br.Peek(1)
	var ne net.Error
	require.ErrorAs(c.t, err, &ne)
	require.True(c.t, ne.Timeout(), "got %v", err)
	require.NoError(c.t, c.nc.SetReadDeadline(time.Now().Add(safetyTimeout)))
}

// closeEvents returns Options whose OnClose sends every event to the
// returned channel.
func closeEvents() (*Options, chan CloseEvent) {
	ch := make(chan CloseEvent, 16)
	return &Options{OnClose: func(ev CloseEvent) { ch <- ev }}, ch
}

// nextEvent waits for one close event.
func nextEvent(t *testing.T, ch chan CloseEvent) CloseEvent {
	t.Helper()
	select {
	case ev := <-ch:
		return ev
	case <-time.After(safetyTimeout):
		t.Fatal("no close event")
		return CloseEvent{}
	}
}
