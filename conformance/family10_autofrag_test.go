package conformance

// Family 10: automatic fragmentation of what we send (RFC 6455, section
// 5.4: a message may be sent in any number of frames; control frames may
// be injected between them; each client frame is masked with a fresh key,
// section 5.3).

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/framing"
	"github.com/wslua/wslua/protocol"
	"github.com/wslua/wslua/testserver"
)

// TestServerAutoFragmentation: the server's streaming echo sends a large
// message as several frames; the raw client checks their structure (first
// frame's opcode, continuations, FIN on the last only, unmasked, RSV clear)
// and the reassembled payload.
func TestServerAutoFragmentation(t *testing.T) {
	for _, bufSize := range []int{0, 512} {
		t.Run(fmt.Sprintf("write buffer %d", bufSize), func(t *testing.T) {
			srv := testserver.New(&testserver.Options{WriteBufferSize: bufSize})
			t.Cleanup(srv.Close)
			for _, tc := range []struct {
				op framing.Opcode
				n  int
			}{{framing.OpText, 100 * kib}, {framing.OpBinary, 1 * mib}} {
				c := dialRaw(t, srv.URL(), "/echo")
				payload := payloadOf(tc.op, tc.n)
				werr := make(chan error, 1)
				go func() { werr <- c.write(c.encode(true, 0, tc.op, payload)) }()
				op, got, frames, ctrl, err := c.message()
				require.NoError(t, <-werr)
				require.NoError(t, err)
				require.Empty(t, ctrl)
				require.Equal(t, tc.op, op)
				require.Equal(t, len(payload), len(got))
				require.True(t, string(payload) == string(got))
				require.GreaterOrEqual(t, frames, 2, "a %d-byte echo is fragmented", tc.n)
				c.closeHandshake()
			}
		})
	}
}

// TestServerPongInsideFragmentedEcho: a ping arriving while the server
// streams a long message out is answered between its frames or after it,
// once, and the message stays intact.
func TestServerPongInsideFragmentedEcho(t *testing.T) {
	srv := testserver.New(&testserver.Options{WriteBufferSize: 512})
	t.Cleanup(srv.Close)
	c := dialRaw(t, srv.URL(), "/echo")
	payload := payloadOf(framing.OpBinary, 1*mib)
	msgs := append(c.encode(true, 0, framing.OpBinary, payload), c.encode(true, 0, framing.OpPing, []byte("mid"))...)
	werr := make(chan error, 1)
	go func() { werr <- c.write(msgs) }()
	_, got, _, ctrl, err := c.message()
	require.NoError(t, <-werr)
	require.NoError(t, err)
	require.True(t, string(payload) == string(got))
	if len(ctrl) == 0 { // the pong came after the message
		c.expectControl(framing.OpPong, []byte("mid"))
	} else {
		require.Len(t, ctrl, 1)
		require.Equal(t, framing.OpPong, ctrl[0].Opcode)
		require.Equal(t, "mid", string(ctrl[0].Payload))
	}
	c.closeHandshake()
}

// TestClientAutoFragmentation checks the frames our client's Writer
// produces, byte by byte on a raw server.
func TestClientAutoFragmentation(t *testing.T) {
	tests := []struct {
		name    string
		bufSize int
		typ     protocol.MessageType
		writes  []writeOp
		frames  []int // expected payload size of each frame; nil: only check at least 2
		pings   []string
	}{
		{name: "10000 bytes in 100-byte writes, 1024-byte buffer", bufSize: 1024, typ: protocol.MessageText,
			writes: repeatWrites(100, 100), frames: []int{1024, 1024, 1024, 1024, 1024, 1024, 1024, 1024, 1024, 784}},
		{name: "one 64 KiB write", bufSize: 0, typ: protocol.MessageBinary,
			writes: []writeOp{{data: binOf(64 * kib)}}},
		{name: "no write at all", bufSize: 0, typ: protocol.MessageText, frames: []int{0}},
		{name: "ping between fragments", bufSize: 256, typ: protocol.MessageBinary,
			writes: []writeOp{{data: binOf(300)}, {ping: "mid"}, {data: binOf(300)}}, pings: []string{"mid"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newRawListener(t)
			wait := runClient(t, l.URL("/"), protocol.Options{WriteBufferSize: tc.bufSize},
				func(ctx context.Context, c *protocol.Conn) error {
					w, err := c.Writer(ctx, tc.typ)
					if err != nil {
						return err
					}
					for _, op := range tc.writes {
						if op.ping != "" {
							err = c.Ping(ctx, []byte(op.ping))
						} else {
							_, err = w.Write(op.data)
						}
						if err != nil {
							return err
						}
					}
					if err := w.Close(); err != nil {
						return err
					}
					return c.Close(protocol.StatusNormalClosure, "")
				})
			s := l.accept("")
			var want []byte
			for _, op := range tc.writes {
				want = append(want, op.data...)
			}
			var sizes []int
			var pings []string
			keys := map[[4]byte]bool{}
			var payload []byte
			for i := 0; ; i++ {
				f := s.mustFrame() // requires masking
				require.False(t, keys[f.Mask], "fresh masking key for every frame")
				keys[f.Mask] = true
				require.Zero(t, f.Rsv)
				if f.Opcode == framing.OpPing {
					pings = append(pings, string(f.Payload))
					continue
				}
				if len(sizes) == 0 {
					require.Equal(t, framing.Opcode(tc.typ), f.Opcode)
				} else {
					require.Equal(t, framing.OpContinuation, f.Opcode)
				}
				sizes = append(sizes, len(f.Payload))
				payload = append(payload, f.Payload...)
				if f.Fin {
					break
				}
			}
			require.Equal(t, string(want), string(payload))
			require.Equal(t, tc.pings, pings)
			if tc.frames != nil {
				require.Equal(t, tc.frames, sizes)
			} else {
				require.GreaterOrEqual(t, len(sizes), 2)
			}
			s.expectClose(1000)
			require.NoError(t, wait())
		})
	}
}

// writeOp is one step of writing a message through a Writer.
type writeOp struct {
	data []byte
	ping string // sent with Conn.Ping instead of writing data
}

// repeatWrites returns n writes of size bytes of text, each ending with a
// different letter.
func repeatWrites(n, size int) []writeOp {
	var ws []writeOp
	for i := range n {
		ws = append(ws, writeOp{data: []byte(textOf(size-1) + string(rune('a'+i%26)))})
	}
	return ws
}

// TestClientWriteOneFrame: Write sends a whole message as one frame,
// whatever its size (documented by protocol.Conn.Write).
func TestClientWriteOneFrame(t *testing.T) {
	l := newRawListener(t)
	payload := payloadOf(framing.OpBinary, 1*mib)
	wait := runClient(t, l.URL("/"), protocol.Options{}, func(ctx context.Context, c *protocol.Conn) error {
		if err := c.Write(ctx, protocol.MessageBinary, payload); err != nil {
			return err
		}
		return c.Close(protocol.StatusNormalClosure, "")
	})
	s := l.accept("")
	f := s.mustFrame()
	require.True(t, f.Fin)
	require.Equal(t, framing.OpBinary, f.Opcode)
	require.True(t, string(payload) == string(f.Payload))
	s.expectClose(1000)
	require.NoError(t, wait())
}
