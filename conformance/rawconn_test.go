package conformance

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/framing"
)

// safetyTimeout keeps a broken test from hanging; nothing asserts on it.
const safetyTimeout = 20 * time.Second

// maxTestPayload bounds what a raw endpoint accepts in one frame.
const maxTestPayload = 64 << 20

// rfcGUID is the GUID of RFC 6455, section 1.3.
const rfcGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// acceptFor computes Sec-WebSocket-Accept as RFC 6455, section 4.2.2 says,
// independently of package handshake.
func acceptFor(key string) string {
	sum := sha1.Sum([]byte(key + rfcGUID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// frame is one frame as read off the wire, payload unmasked.
type frame struct {
	framing.Header
	Payload []byte
}

// rawConn is one end of a WebSocket connection driven by hand: it writes
// hand-crafted frames and reads the peer's frames byte-exactly. As the client
// end (client true) it masks what it sends and requires unmasked frames; as
// the server end the reverse.
type rawConn struct {
	t         testing.TB
	nc        net.Conn
	br        *bufio.Reader
	client    bool
	resp      *http.Response // the 101 response (client end)
	keyCtr    uint32         // source of masking keys
	closed    bool           // a closing handshake was completed
	sentClose bool           // a close frame was encoded

	wmu sync.Mutex // serializes writes from a writer goroutine and the test
}

// dialRaw connects to the server at base (ws://host:port) and performs the
// opening handshake for target (path and query) by hand, requiring 101.
func dialRaw(t testing.TB, base, target string, extra ...string) *rawConn {
	t.Helper()
	return dialRawEarly(t, base, target, nil, extra...)
}

// dialRawEarly is dialRaw sending early right behind the request, in the
// same TCP write, before the response (which RFC 6455 does not let a
// client do; a robust server copes).
func dialRawEarly(t testing.TB, base, target string, early []byte, extra ...string) *rawConn {
	t.Helper()
	host := strings.TrimPrefix(base, "ws://")
	nc, err := net.Dial("tcp", host)
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	require.NoError(t, nc.SetDeadline(time.Now().Add(safetyTimeout)))
	const key = "x3JJHMbDL1EzLkh9GBhXDw==" // example nonce of RFC 6455, section 1.2
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n", target, host)
	fmt.Fprintf(&b, "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", key)
	for i := 0; i+1 < len(extra); i += 2 {
		fmt.Fprintf(&b, "%s: %s\r\n", extra[i], extra[i+1])
	}
	b.WriteString("\r\n")
	b.Write(early)
	_, err = io.WriteString(nc, b.String())
	require.NoError(t, err)
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	require.True(t, strings.EqualFold(resp.Header.Get("Upgrade"), "websocket"))
	require.True(t, strings.EqualFold(resp.Header.Get("Connection"), "upgrade"))
	require.Equal(t, acceptFor(key), resp.Header.Get("Sec-WebSocket-Accept"))
	return &rawConn{t: t, nc: nc, br: br, client: true, resp: resp, keyCtr: 0x9e3779b9}
}

// nextKey returns a fresh masking key (predictable, which is fine for a
// test endpoint, and never all zero so masking is exercised).
func (c *rawConn) nextKey() [4]byte {
	c.keyCtr = c.keyCtr*1664525 + 1013904223
	var k [4]byte
	binary.LittleEndian.PutUint32(k[:], c.keyCtr|0x01010101)
	return k
}

// encode returns the bytes of one frame, masked if c is the client end.
func (c *rawConn) encode(fin bool, rsv byte, op framing.Opcode, payload []byte) []byte {
	h := framing.Header{Fin: fin, Rsv: rsv, Opcode: op}
	if op == framing.OpClose {
		c.sentClose = true
	}
	if c.client {
		h.Masked, h.Mask = true, c.nextKey()
	}
	return framing.AppendFrame(nil, h, payload)
}

// write writes b whole.
func (c *rawConn) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.nc.Write(b)
	return err
}

// mustWrite writes b whole and requires success.
func (c *rawConn) mustWrite(b []byte) {
	c.t.Helper()
	require.NoError(c.t, c.write(b))
}

// writeChunked writes b in pieces of n bytes, one TCP write each.
func (c *rawConn) writeChunked(b []byte, n int) error {
	for len(b) > 0 {
		k := min(n, len(b))
		if err := c.write(b[:k]); err != nil {
			return err
		}
		b = b[k:]
	}
	return nil
}

// send writes one frame.
func (c *rawConn) send(fin bool, op framing.Opcode, payload []byte) {
	c.t.Helper()
	c.mustWrite(c.encode(fin, 0, op, payload))
}

// sendClose writes a close frame with code and reason.
func (c *rawConn) sendClose(code uint16, reason string) {
	c.t.Helper()
	c.send(true, framing.OpClose, closeBody(code, reason))
}

// closeBody encodes a close frame payload.
func closeBody(code uint16, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, code), reason...)
}

// readFrame reads one frame and checks the masking rule for the peer's role.
func (c *rawConn) readFrame() (frame, error) {
	h, err := framing.ReadHeader(c.br)
	if err != nil {
		return frame{}, err
	}
	if h.Masked == c.client {
		return frame{}, fmt.Errorf("frame masked=%v from the peer of a client=%v end", h.Masked, c.client)
	}
	if h.Length > maxTestPayload {
		return frame{}, fmt.Errorf("frame of %d bytes", h.Length)
	}
	f := frame{Header: h, Payload: make([]byte, h.Length)}
	if _, err := io.ReadFull(c.br, f.Payload); err != nil {
		return frame{}, err
	}
	if h.Masked {
		framing.Mask(h.Mask, 0, f.Payload)
	}
	return f, nil
}

// mustFrame reads one frame, requiring success.
func (c *rawConn) mustFrame() frame {
	c.t.Helper()
	f, err := c.readFrame()
	require.NoError(c.t, err)
	return f
}

// message reads one data message, checking each frame's structure: RSV bits
// clear, the first frame text or binary, the others continuation frames, FIN
// on the last only. Control frames in between are returned in ctrl.
func (c *rawConn) message() (op framing.Opcode, payload []byte, frames int, ctrl []frame, err error) {
	for {
		f, err := c.readFrame()
		if err != nil {
			return 0, nil, frames, ctrl, err
		}
		if f.Rsv != 0 {
			return 0, nil, frames, ctrl, fmt.Errorf("RSV bits %#x set", f.Rsv)
		}
		if f.Opcode.IsControl() {
			ctrl = append(ctrl, f)
			if f.Opcode == framing.OpClose {
				return 0, nil, frames, ctrl, errCloseFrame
			}
			continue
		}
		switch {
		case frames == 0 && f.Opcode != framing.OpText && f.Opcode != framing.OpBinary:
			return 0, nil, frames, ctrl, fmt.Errorf("message starts with a %v frame", f.Opcode)
		case frames > 0 && f.Opcode != framing.OpContinuation:
			return 0, nil, frames, ctrl, fmt.Errorf("%v frame inside a fragmented message", f.Opcode)
		}
		if frames == 0 {
			op = f.Opcode
		}
		frames++
		payload = append(payload, f.Payload...)
		if f.Fin {
			if payload == nil {
				payload = []byte{}
			}
			return op, payload, frames, ctrl, nil
		}
	}
}

// errCloseFrame is returned by message when a close frame arrives.
var errCloseFrame = errors.New("close frame instead of a message")

// expectMessage requires the next data message to be op with payload and no
// control frame to arrive before it.
func (c *rawConn) expectMessage(op framing.Opcode, payload []byte) {
	c.t.Helper()
	gotOp, got, _, ctrl, err := c.message()
	require.NoError(c.t, err, "control frames: %v", ctrlString(ctrl))
	require.Empty(c.t, ctrl, "no control frame expected before the message")
	require.Equal(c.t, op, gotOp)
	require.True(c.t, string(payload) == string(got), "payload of %d bytes differs from the %d bytes sent", len(got), len(payload))
}

// expectControl requires the next frame to be the control frame op with
// payload.
func (c *rawConn) expectControl(op framing.Opcode, payload []byte) {
	c.t.Helper()
	f := c.mustFrame()
	require.Equal(c.t, op, f.Opcode, "payload %q", f.Payload)
	require.True(c.t, f.Fin)
	require.Zero(c.t, f.Rsv)
	require.Equal(c.t, string(payload), string(f.Payload))
}

// expectClose reads frames until a close frame, skipping data frames (an
// endpoint that streams may have sent part of a message before failing),
// requires its code to be one of codes (0 standing for an empty body),
// answers it unless it is the answer to our own close frame, and finishes
// the closing handshake (RFC 6455, section 7.1.1): a client end requires the
// server to close the TCP connection, a server end closes it. It returns the
// close frame's payload.
func (c *rawConn) expectClose(codes ...int) []byte {
	c.t.Helper()
	for {
		f := c.mustFrame()
		switch {
		case f.Opcode == framing.OpClose:
			require.True(c.t, f.Fin)
			require.NotEqual(c.t, 1, len(f.Payload), "a close body is empty or has a code")
			code := 0
			if len(f.Payload) >= 2 {
				code = int(binary.BigEndian.Uint16(f.Payload))
			}
			require.Contains(c.t, codes, code, "close code (body %q)", f.Payload)
			if !c.sentClose {
				_ = c.write(c.encode(true, 0, framing.OpClose, f.Payload[:min(2, len(f.Payload))]))
			}
			c.finish()
			return f.Payload
		case f.Opcode.IsControl():
			require.NotEqual(c.t, framing.OpPong, f.Opcode, "no pong expected before the close frame")
		}
	}
}

// finish ends the connection after the closing handshake: the server end
// closes TCP, the client end requires the server to do so.
func (c *rawConn) finish() {
	c.t.Helper()
	c.closed = true
	if c.client {
		c.expectEOF()
		return
	}
	_ = c.nc.Close()
}

// expectEOF requires the peer to close the TCP connection with nothing more
// sent (a reset after everything was read counts as closed too).
func (c *rawConn) expectEOF() {
	c.t.Helper()
	b, err := c.br.ReadByte()
	if err == nil {
		c.t.Fatalf("byte %#x after the close frame; want end of stream", b)
	}
	if !errors.Is(err, io.EOF) && !isReset(err) {
		c.t.Fatalf("got %v; want end of stream", err)
	}
}

// isReset reports a connection reset by the peer.
func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

// closeHandshake starts a clean closing handshake (1000) and requires the
// peer to answer it with 1000: a check that the connection is still healthy
// after a case. Pongs before the answer are tolerated.
func (c *rawConn) closeHandshake() {
	c.t.Helper()
	c.sendClose(1000, "")
	for {
		f := c.mustFrame()
		if f.Opcode == framing.OpClose {
			require.Equal(c.t, closeBody(1000, ""), f.Payload)
			break
		}
		require.True(c.t, f.Opcode == framing.OpPong, "unexpected %v frame before the close reply", f.Opcode)
	}
	c.finish()
}

func ctrlString(fs []frame) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "%v(%q) ", f.Opcode, f.Payload)
	}
	return b.String()
}
