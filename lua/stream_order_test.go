package lua

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/framing"
	"github.com/wslua/wslua/protocol"
)

// echoScript echoes every text and binary message until the final close
// message, which it prints with the number of messages echoed.
const echoScript = `
	local client = assert(websocket.connect(WS, OPTS))
	local ch = client:receive()
	local echoed = 0
	while true do
		local m, ok = ch:receive()
		if not ok then print("channel closed") break end
		if m.type == websocket.TYPE_TEXT or m.type == websocket.TYPE_BINARY then
			local sent, err = client:send(m.data, m.type)
			if sent then echoed = echoed + 1 else print("echo failed", err) end
		elseif m.type == websocket.TYPE_CLOSE then
			print("close", echoed, m.code, m.initiator)
			break
		end
	end
`

// rawPeer writes the frames of chops to the network connection after the
// upgrade (one write per chop, with a pause between chops), then reports on
// out every message it reads and how the connection ended.
func rawPeer(chops [][]byte, out chan<- []string) func(ctx context.Context, conn *protocol.Conn) {
	return func(ctx context.Context, conn *protocol.Conn) {
		var seen []string
		defer func() {
			select {
			case out <- seen:
			case <-ctx.Done():
			}
		}()
		for i, chop := range chops {
			if i > 0 {
				time.Sleep(5 * time.Millisecond)
			}
			if _, err := conn.NetConn().Write(chop); err != nil {
				seen = append(seen, "write: "+err.Error())
				return
			}
		}
		for {
			typ, p, err := conn.Read(ctx)
			var ce *protocol.CloseError
			switch {
			case errors.As(err, &ce) && ce.Remote:
				seen = append(seen, fmt.Sprintf("close %d", ce.Code))
				return
			case err != nil:
				seen = append(seen, "ended without a close frame")
				return
			}
			seen = append(seen, fmt.Sprintf("%s %q", typ, p))
		}
	}
}

func frame(fin bool, rsv byte, op framing.Opcode, payload string) []byte {
	return framing.AppendFrame(nil, framing.Header{Fin: fin, Rsv: rsv, Opcode: op}, []byte(payload))
}

func joinFrames(frames ...[]byte) []byte {
	var b []byte
	for _, f := range frames {
		b = append(b, f...)
	}
	return b
}

// streamOrderCases are the Autobahn cases where a valid message and, in the
// same burst, a frame that must fail the connection arrive together.
func streamOrderCases() []struct {
	name  string
	chops [][]byte
	echo  string
} {
	hello := "Hello, world!"
	valid := frame(true, 0, framing.OpText, hello)
	ping := frame(true, 0, framing.OpPing, hello)
	badThen := func(bad []byte) [][]byte { return [][]byte{joinFrames(valid, bad, ping)} }
	return []struct {
		name  string
		chops [][]byte
		echo  string
	}{
		{"3.2 RSV=2", badThen(frame(true, framing.Rsv2, framing.OpText, hello)), hello},
		{"3.3 RSV=3 frame-wise chops", [][]byte{valid, frame(true, framing.Rsv2|framing.Rsv3, framing.OpText, hello), ping}, hello},
		{"4.1.3 opcode 5", badThen(frame(true, 0, 5, "")), hello},
		{"4.1.4 opcode 6 with payload", badThen(frame(true, 0, 6, hello)), hello},
		{"4.2.3 opcode 13", badThen(frame(true, 0, 13, "")), hello},
		{"4.2.4 opcode 14 with payload", badThen(frame(true, 0, 14, hello)), hello},
		{"5.15 continuation with nothing to continue", [][]byte{joinFrames(
			frame(false, 0, framing.OpText, "fragment1"),
			frame(true, 0, framing.OpContinuation, "fragment2"),
			frame(false, 0, framing.OpContinuation, "fragment3"),
			frame(true, 0, framing.OpText, "fragment4"),
		)}, "fragment1fragment2"},
	}
}

// TestFailInStreamOrder: the valid message before a frame that fails the
// connection reaches the script, and its echo reaches the wire, before the
// connection fails with 1002 (Autobahn 3.2, 3.3, 4.1.3, 4.1.4, 4.2.3, 4.2.4
// and 5.15 through a Lua script). Before, the reader read ahead, met the bad
// frame and failed the connection before the script had the message.
func TestFailInStreamOrder(t *testing.T) {
	for _, tt := range streamOrderCases() {
		t.Run(tt.name, func(t *testing.T) {
			got := make(chan []string, 1)
			url := peerServer(t, rawPeer(tt.chops, got))
			out := mustRunLua(t, url, strings.ReplaceAll(echoScript, "OPTS", "nil"))
			require.Equal(t, "close\t1\t1002\tclient\n", out)
			requirePeerSaw(t, got, fmt.Sprintf("text %q", tt.echo), "close 1002")
		})
	}
}

func requirePeerSaw(t *testing.T, got <-chan []string, want ...string) {
	t.Helper()
	select {
	case seen := <-got:
		require.Equal(t, want, seen)
	case <-time.After(10 * time.Second):
		t.Fatal("the peer reported nothing")
	}
}

// TestTooBigInStreamOrder: a message over max_message_size after a valid
// one: the valid one is echoed, then the connection fails with 1009.
func TestTooBigInStreamOrder(t *testing.T) {
	got := make(chan []string, 1)
	chops := [][]byte{joinFrames(frame(true, 0, framing.OpText, "small"), frame(true, 0, framing.OpBinary, strings.Repeat("z", 100)))}
	url := peerServer(t, rawPeer(chops, got))
	out := mustRunLua(t, url, strings.ReplaceAll(echoScript, "OPTS", "{max_message_size = 50}"))
	require.Equal(t, "close\t1\t1009\tclient\n", out)
	requirePeerSaw(t, got, `text "small"`, "close 1009")
}

// TestFailInStreamOrderIsBounded: a script that does not receive cannot
// keep a bad connection open: it fails after close_timeout, without the
// echo; the script still gets the message and then the close message.
func TestFailInStreamOrderIsBounded(t *testing.T) {
	got := make(chan []string, 1)
	url := peerServer(t, rawPeer(streamOrderCases()[0].chops, got))
	out := mustRunLua(t, url, `
		local client = assert(websocket.connect(WS, {close_timeout = 100}))
		time.sleep(1000) -- not receiving
		local ch = client:receive()
		local m = ch:receive()
		print(m.type, m.data)
		m = ch:receive()
		print(m.type, m.code)
		print(ch:receive())
	`)
	require.Equal(t, "text\tHello, world!\nclose\t1002\nnil\tfalse\n", out)
	requirePeerSaw(t, got, "close 1002")
}

// chopConn is a net.Conn whose reads return the given chops in turn.
type chopConn struct {
	net.Conn
	chops [][]byte
}

func (c *chopConn) Read(p []byte) (int, error) {
	if len(c.chops) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.chops[0])
	if c.chops[0] = c.chops[0][n:]; len(c.chops[0]) == 0 {
		c.chops = c.chops[1:]
	}
	return n, nil
}

// TestFrameGuardSplits: whatever the read boundaries, the guard passes on
// exactly the bytes before the first bad frame, waits once, then passes on
// the rest unchanged; a stream without a bad frame passes untouched.
func TestFrameGuardSplits(t *testing.T) {
	head := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"
	long := strings.Repeat("x", 300) // a 16-bit extended length
	plain := joinFrames(
		frame(true, 0, framing.OpText, "a"),
		frame(false, 0, framing.OpBinary, long),
		frame(true, 0, framing.OpPing, "p"),
		frame(true, 0, framing.OpContinuation, "b"),
	)
	deflated := frame(true, framing.Rsv1, framing.OpText, "deflated") // fine when deflate was offered
	tests := []struct {
		name    string
		bad     []byte
		deflate bool
		code    protocol.StatusCode
	}{
		{"none", nil, true, 0},
		{"reserved bit", frame(true, framing.Rsv2, framing.OpText, "x"), true, 1002},
		{"RSV1 without deflate", frame(true, framing.Rsv1, framing.OpText, "x"), false, 1002},
		{"reserved opcode", frame(true, 0, 11, ""), true, 1002},
		{"orphan continuation", frame(true, 0, framing.OpContinuation, "x"), true, 1002},
		{"masked frame", framing.AppendFrame(nil, framing.Header{Fin: true, Opcode: framing.OpText, Masked: true}, []byte("m")), true, 1002},
		{"too big", frame(true, 0, framing.OpBinary, strings.Repeat("y", 1001)), true, 1009},
		{"fragmented control", frame(false, 0, framing.OpPing, ""), true, 1002},
	}
	for _, tt := range tests {
		good := plain
		if tt.deflate {
			good = joinFrames(plain, deflated)
		}
		stream := append(append([]byte(head), good...), tt.bad...)
		stream = append(stream, frame(true, 0, framing.OpText, "after")...)
		cut := len(head) + len(good)
		if tt.bad == nil {
			cut = len(stream)
		}
		for split := 1; split < len(stream); split++ {
			nc := &chopConn{chops: [][]byte{bytes.Clone(stream[:split]), bytes.Clone(stream[split:])}}
			var waits int
			var failure *guardFailure
			var before int // bytes passed on before the wait
			var out []byte
			g := newFrameGuard(nc, 1000, tt.deflate, func(_ <-chan struct{}, f *guardFailure) {
				waits++
				failure = f
				before = len(out)
			})
			buf := make([]byte, 64)
			for {
				n, err := g.Read(buf)
				out = append(out, buf[:n]...)
				if err != nil {
					break
				}
			}
			require.Equal(t, stream, out, "%s, split at %d: the bytes pass unchanged", tt.name, split)
			if tt.bad == nil {
				require.Zero(t, waits, "split at %d", split)
				continue
			}
			require.Equal(t, 1, waits, "%s, split at %d", tt.name, split)
			require.Equal(t, tt.code, failure.code, "%s, split at %d", tt.name, split)
			// A bad header cut by the split may have had its first bytes
			// passed on already, never a byte of what precedes it held.
			require.LessOrEqual(t, before, cut+framing.MaxHeaderSize, "%s, split at %d", tt.name, split)
			require.GreaterOrEqual(t, before, min(cut, split), "%s, split at %d", tt.name, split)
			if split >= cut+framing.MaxHeaderSize {
				require.Equal(t, cut, before, "%s, split at %d", tt.name, split)
			}
		}
	}
}

// TestFrameGuardKeepsSyscallConn: the guard exposes the socket, so the
// protocol's non-blocking writes (TryWrite) still work on guarded
// connections.
func TestFrameGuardKeepsSyscallConn(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	nc, err := net.Dial("tcp", l.Addr().String())
	require.NoError(t, err)
	g := newFrameGuard(nc, 1, false, nil)
	defer g.Close()
	sc, ok := net.Conn(g).(syscall.Conn)
	require.True(t, ok)
	rc, err := sc.SyscallConn()
	require.NoError(t, err)
	require.NotNil(t, rc)

	_, err = newFrameGuard(&chopConn{}, 1, false, nil).SyscallConn()
	require.ErrorIs(t, err, errors.ErrUnsupported)
}

// TestDirectAddr: the guard goes on the TCP connection to the server
// itself, whose address is computed as the handshake does; other URLs get
// none.
func TestDirectAddr(t *testing.T) {
	for url, want := range map[string]string{
		"ws://example.com/x":      "example.com:80",
		"ws://Example.COM:8080/x": "example.com:8080",
		"http://127.0.0.1:9001":   "127.0.0.1:9001",
		"ws://[::1]:7/":           "[::1]:7",
		"ws://bücher.example/":    "xn--bcher-kva.example:80",
		"wss://example.com/":      "",
		"https://example.com/":    "",
		"ws:///nohost":            "",
		"::bad":                   "",
	} {
		require.Equal(t, want, directAddr(url), url)
	}
}
