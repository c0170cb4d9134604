package protocol

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/framing"
)

// deferCases are frame headers that break the protocol, each after a
// valid message "first"; a prefix, if any, comes between the two.
var deferCases = []struct {
	name string
	bad  func(p *rawPeer) []byte
	code StatusCode
}{
	{"reserved bit", func(p *rawPeer) []byte {
		b := p.frame(framing.OpText, true, []byte("x"))
		b[0] |= 0x20 // RSV2
		return b
	}, StatusProtocolError},
	{"reserved opcode", func(p *rawPeer) []byte { return p.frame(framing.Opcode(3), true, []byte("x")) }, StatusProtocolError},
	{"continuation without start", func(p *rawPeer) []byte { return p.frame(framing.OpContinuation, true, []byte("x")) }, StatusProtocolError},
	{"new message inside a fragmented one", func(p *rawPeer) []byte {
		return append(p.frame(framing.OpText, false, []byte("x")), p.frame(framing.OpText, true, []byte("y"))...)
	}, StatusProtocolError},
	{"fragmented ping", func(p *rawPeer) []byte { return p.frame(framing.OpPing, false, []byte("x")) }, StatusProtocolError},
	{"control frame too long", func(p *rawPeer) []byte { return p.header(framing.OpPing, true, 126) }, StatusProtocolError},
	{"over the read limit", func(p *rawPeer) []byte { return p.header(framing.OpBinary, true, 1<<20) }, StatusMessageTooBig},
}

// With DeferFailure, a bad frame header is reported in stream order: the
// message before it is read, then the failure, again and again, while
// nothing was sent; a message written then reaches the peer before the
// close frame that Fail sends.
func TestDeferFailure(t *testing.T) {
	for _, tc := range deferCases {
		t.Run(tc.name, func(t *testing.T) {
			c, p := withRaw(t, RoleServer, &Options{DeferFailure: true, ReadLimit: 1000, CloseTimeout: time.Minute})
			p.write(p.frame(framing.OpText, true, []byte("first")), tc.bad(p))
			_, msg, err := c.Read(readCtx(t))
			require.NoError(t, err)
			require.Equal(t, "first", string(msg))

			_, _, err = c.Read(readCtx(t))
			var ce *CloseError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, tc.code, ce.Code)
			require.False(t, ce.Received)
			_, _, err2 := c.Read(readCtx(t))
			require.Same(t, ce, err2, "later reads return the same error")
			_, _, err2 = c.Reader(readCtx(t))
			require.Same(t, ce, err2)

			// Nothing went out yet; a write still works.
			_ = p.nc.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			_, rerr := p.br.Peek(1)
			require.True(t, isTimeout(rerr), "nothing sent before Fail: %v", rerr)
			require.NoError(t, c.Write(readCtx(t), MessageText, []byte("answer")))

			within(t, 10*time.Second, "Fail", c.Fail)
			h, b := p.mustNext()
			require.Equal(t, framing.OpText, h.Opcode)
			require.Equal(t, "answer", string(b), "the answer precedes the close frame")
			cp := p.expectClose()
			require.Equal(t, tc.code, StatusCode(binary.BigEndian.Uint16(cp)))
			require.Equal(t, ce.Reason, string(cp[2:]))
			_, _, err2 = c.Read(readCtx(t))
			require.Same(t, ce, err2, "after Fail too")
			require.ErrorIs(t, c.Write(readCtx(t), MessageText, []byte("late")), ErrClosed)
			p.nc.Close()
		})
	}
}

// Without a call to Fail, the Conn fails by itself after CloseTimeout.
func TestDeferFailureBounded(t *testing.T) {
	const closeTimeout = 200 * time.Millisecond
	c, p := withRaw(t, RoleServer, &Options{DeferFailure: true, CloseTimeout: closeTimeout})
	p.send(framing.OpContinuation, true, []byte("x"))
	start := time.Now()
	_, _, err := c.Read(readCtx(t))
	require.Equal(t, StatusProtocolError, CloseStatus(err))
	cp := p.expectClose()
	require.GreaterOrEqual(t, time.Since(start), closeTimeout, "not before CloseTimeout")
	require.Equal(t, StatusProtocolError, StatusCode(binary.BigEndian.Uint16(cp)))
	p.expectEOF()
	recv(t, "the Conn closed", c.closed)
}

// Close and CloseNow finish a held failure: Close sends the failure's close
// frame (not its own code), CloseNow closes without one; Read keeps the
// failure.
func TestDeferFailureClose(t *testing.T) {
	for _, now := range []bool{false, true} {
		c, p := withRaw(t, RoleServer, &Options{DeferFailure: true, CloseTimeout: time.Minute})
		p.write(p.header(framing.Opcode(11), true, 0))
		_, _, err := c.Read(readCtx(t))
		require.Equal(t, StatusProtocolError, CloseStatus(err))
		if now {
			require.NoError(t, c.CloseNow())
			p.expectEOF()
		} else {
			within(t, 10*time.Second, "Close", func() error { return c.Close(StatusNormalClosure, "") })
			cp := p.expectClose()
			require.Equal(t, StatusProtocolError, StatusCode(binary.BigEndian.Uint16(cp)))
		}
		_, _, err2 := c.Read(readCtx(t))
		require.Same(t, err, err2)
	}
}

// Without the option, the failure goes out at once (the control case).
func TestNoDeferFailure(t *testing.T) {
	c, p := withRaw(t, RoleServer, nil)
	p.send(framing.OpContinuation, true, []byte("x"))
	_, _, err := c.Read(readCtx(t))
	require.Equal(t, StatusProtocolError, CloseStatus(err))
	cp := p.expectClose()
	require.Equal(t, StatusProtocolError, StatusCode(binary.BigEndian.Uint16(cp)))
	require.NoError(t, c.Fail(), "nothing held back: nothing to do")
}
