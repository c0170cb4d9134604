package protocol

import (
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/framing"
)

type rawFrame struct {
	op      framing.Opcode
	fin     bool
	payload string
}

// RFC 6455, section 5.4: fragmented messages are reassembled, control frames
// between fragments are handled at once, and broken sequences fail with
// 1002.
func TestRFC5_4_Fragmentation(t *testing.T) {
	tests := []struct {
		name   string
		frames []rawFrame
		want   []string // messages, then an error if fail
		pongs  []string // pong payloads expected, in order
		fail   bool
	}{
		{name: "two fragments", frames: []rawFrame{{framing.OpText, false, "Hel"}, {0, true, "lo"}}, want: []string{"Hello"}},
		{name: "many fragments with empty ones", frames: []rawFrame{
			{framing.OpBinary, false, ""}, {0, false, "a"}, {0, false, ""}, {0, false, "bc"}, {0, true, ""},
		}, want: []string{"abc"}},
		{name: "ping between fragments", frames: []rawFrame{
			{framing.OpText, false, "ab"}, {framing.OpPing, true, "p1"}, {0, false, "cd"}, {framing.OpPing, true, ""}, {0, true, "ef"},
		}, want: []string{"abcdef"}, pongs: []string{"p1", ""}},
		{name: "pong between fragments", frames: []rawFrame{
			{framing.OpText, false, "ab"}, {framing.OpPong, true, "x"}, {0, true, "c"},
		}, want: []string{"abc"}},
		{name: "continuation without start", frames: []rawFrame{{0, true, "x"}}, fail: true},
		{name: "continuation after a complete message", frames: []rawFrame{{framing.OpText, true, "a"}, {0, true, "b"}}, want: []string{"a"}, fail: true},
		{name: "text inside fragmented message", frames: []rawFrame{{framing.OpText, false, "a"}, {framing.OpText, true, "b"}}, fail: true},
		{name: "binary inside fragmented message", frames: []rawFrame{{framing.OpBinary, false, "a"}, {framing.OpBinary, false, "b"}}, fail: true},
	}
	for _, tc := range tests {
		for _, mode := range []string{"Read", "ReadAppend", "Reader"} {
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				c, p := withRaw(t, RoleServer, nil)
				for _, f := range tc.frames {
					p.send(f.op, f.fin, []byte(f.payload))
				}
				var err error
				for _, want := range tc.want {
					var msg []byte
					msg, err = readMode(t, c, mode)
					require.NoError(t, err)
					require.Equal(t, want, string(msg))
				}
				for _, pong := range tc.pongs {
					h, b := p.mustNext()
					require.Equal(t, framing.OpPong, h.Opcode)
					require.Equal(t, pong, string(b))
				}
				if tc.fail {
					_, err = readMode(t, c, mode)
					require.ErrorIs(t, err, framing.ErrProtocol)
					requireFailed(t, c, p, err, StatusProtocolError)
				}
			})
		}
	}
}

// readMode reads one message with the named API.
func readMode(t *testing.T, c *Conn, mode string) ([]byte, error) {
	switch mode {
	case "Read":
		_, b, err := c.Read(readCtx(t))
		return b, err
	case "ReadAppend":
		_, b, err := c.ReadAppend(readCtx(t), make([]byte, 0, 2))
		return b, err
	default:
		_, r, err := c.Reader(readCtx(t))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(r)
	}
}

// OnPing and OnPong run on the reading goroutine, in wire order relative to
// data messages, including control frames between fragments.
func TestControlCallbackOrder(t *testing.T) {
	var events []string
	opts := &Options{
		OnPing: func(b []byte) { events = append(events, "ping:"+string(b)) },
		OnPong: func(b []byte) { events = append(events, "pong:"+string(b)) },
	}
	c, p := withRaw(t, RoleServer, opts)
	p.send(framing.OpPing, true, []byte("1"))
	p.send(framing.OpText, true, []byte("m1"))
	p.send(framing.OpPong, true, []byte("2"))
	p.send(framing.OpText, false, []byte("m"))
	p.send(framing.OpPing, true, []byte("3"))
	p.send(0, true, []byte("2"))
	p.send(framing.OpPong, true, []byte("4"))
	p.send(framing.OpBinary, true, []byte("m3"))
	for i := 0; i < 3; i++ {
		_, msg, err := c.Read(readCtx(t))
		require.NoError(t, err)
		events = append(events, "msg:"+string(msg))
	}
	require.Equal(t, []string{"ping:1", "msg:m1", "pong:2", "ping:3", "msg:m2", "pong:4", "msg:m3"}, events)
}

// Streaming Reader: fragments are read through, an abandoned message is
// skipped by the next call, and a reader outlived by Read reports it.
func TestReaderLifecycle(t *testing.T) {
	c, p := withRaw(t, RoleServer, nil)
	p.send(framing.OpText, false, []byte("hello "))
	p.send(0, true, []byte("world"))
	p.send(framing.OpBinary, false, []byte("abandoned"))
	p.send(0, false, []byte("..."))
	p.send(0, true, []byte("!"))
	p.send(framing.OpText, true, []byte("third"))
	p.send(framing.OpText, true, []byte("fourth"))

	typ, r, err := c.Reader(readCtx(t))
	require.NoError(t, err)
	require.Equal(t, MessageText, typ)
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	require.Equal(t, "hello world", string(b))
	n, err := r.Read(make([]byte, 4))
	require.Equal(t, 0, n)
	require.Equal(t, io.EOF, err, "EOF repeats")

	typ, r, err = c.Reader(readCtx(t))
	require.NoError(t, err)
	require.Equal(t, MessageBinary, typ)
	buf := make([]byte, 3)
	_, err = io.ReadFull(r, buf)
	require.NoError(t, err)
	require.Equal(t, "aba", string(buf))

	typ, msg, err := c.Read(readCtx(t)) // skips the rest of the binary message
	require.NoError(t, err)
	require.Equal(t, MessageText, typ)
	require.Equal(t, "third", string(msg))
	_, err = r.Read(buf)
	require.ErrorIs(t, err, errStaleReader)

	_, r2, err := c.Reader(readCtx(t))
	require.NoError(t, err)
	b, err = io.ReadAll(r2)
	require.NoError(t, err)
	require.Equal(t, "fourth", string(b))
}
