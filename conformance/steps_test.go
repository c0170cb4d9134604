package conformance

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/framing"
	"github.com/wslua/wslua/testserver"
)

// wf is a frame a raw endpoint writes.
type wf struct {
	fin      bool
	unmasked bool // a client end sends it unmasked anyway
	rsv      byte
	op       framing.Opcode
	payload  []byte
}

// Frame constructors.
func txt(s string) wf                      { return wf{fin: true, op: framing.OpText, payload: []byte(s)} }
func bin(b []byte) wf                      { return wf{fin: true, op: framing.OpBinary, payload: b} }
func ping(s string) wf                     { return wf{fin: true, op: framing.OpPing, payload: []byte(s)} }
func pong(s string) wf                     { return wf{fin: true, op: framing.OpPong, payload: []byte(s)} }
func closeF(b []byte) wf                   { return wf{fin: true, op: framing.OpClose, payload: b} }
func first(op framing.Opcode, s string) wf { return wf{op: op, payload: []byte(s)} }
func cont(s string, fin bool) wf           { return wf{fin: fin, op: framing.OpContinuation, payload: []byte(s)} }
func withRsv(rsv byte, f wf) wf            { f.rsv = rsv; return f }
func notFin(f wf) wf                       { f.fin = false; return f }
func unmasked(f wf) wf                     { f.unmasked = true; return f }

// step is one action of a scripted exchange: writing frames or expecting
// the peer's reaction.
type step func(t *testing.T, c *rawConn)

// send writes the frames in one TCP write.
func send(frames ...wf) step {
	return func(t *testing.T, c *rawConn) {
		t.Helper()
		c.mustWrite(encodeAll(c, frames))
	}
}

// sendChunked writes the frames n bytes per TCP write.
func sendChunked(n int, frames ...wf) step {
	return func(t *testing.T, c *rawConn) {
		t.Helper()
		require.NoError(t, c.writeChunked(encodeAll(c, frames), n))
	}
}

// sendEach writes the frames one TCP write per frame.
func sendEach(frames ...wf) step {
	return func(t *testing.T, c *rawConn) {
		t.Helper()
		for _, f := range frames {
			c.mustWrite(encodeAll(c, []wf{f}))
		}
	}
}

func encodeAll(c *rawConn, frames []wf) []byte {
	var b []byte
	for _, f := range frames {
		if f.unmasked {
			b = framing.AppendFrame(b, framing.Header{Fin: f.fin, Rsv: f.rsv, Opcode: f.op}, f.payload)
			continue
		}
		b = append(b, c.encode(f.fin, f.rsv, f.op, f.payload)...)
	}
	return b
}

// wantText and wantBin expect an echoed message.
func wantText(s string) step { return wantMsg(framing.OpText, []byte(s)) }
func wantBin(b []byte) step  { return wantMsg(framing.OpBinary, b) }

func wantMsg(op framing.Opcode, p []byte) step {
	return func(t *testing.T, c *rawConn) {
		t.Helper()
		c.expectMessage(op, p)
	}
}

// wantPong expects a pong with payload s.
func wantPong(s string) step {
	return func(t *testing.T, c *rawConn) {
		t.Helper()
		c.expectControl(framing.OpPong, []byte(s))
	}
}

// wantClose expects the peer to close with one of the codes (0: empty body).
func wantClose(codes ...int) step {
	return func(t *testing.T, c *rawConn) {
		t.Helper()
		c.expectClose(codes...)
	}
}

// wantCloseBody expects the peer's close frame to carry exactly body.
func wantCloseBody(body []byte) step {
	return func(t *testing.T, c *rawConn) {
		t.Helper()
		code := 0
		if len(body) >= 2 {
			code = int(body[0])<<8 | int(body[1])
		}
		got := c.expectClose(code)
		require.True(t, bytes.Equal(body, got), "close body %q, want %q", got, body)
	}
}

// srvCase is a scripted exchange with our server's echo endpoint.
type srvCase struct {
	name   string
	target string // default "/"
	steps  []step
}

// runServerCases runs each case on a fresh connection to one testserver.
// A case that does not end in a close is followed by a clean closing
// handshake, which proves the connection survived it.
func runServerCases(t *testing.T, cases []srvCase) {
	t.Helper()
	srv := testserver.New(nil)
	t.Cleanup(srv.Close)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			target := tc.target
			if target == "" {
				target = "/"
			}
			c := dialRaw(t, srv.URL(), target)
			for _, s := range tc.steps {
				s(t, c)
			}
			if !c.closed {
				c.closeHandshake()
			}
		})
	}
}
