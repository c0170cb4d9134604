package lua

import (
	"context"
	"errors"
	"fmt"
	"strings"
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

// TestFailInStreamOrderTransports: over wss://, through a proxy and with
// keepalive on (its byte meter wraps the socket) too, the valid message
// before a bad frame is echoed before the connection fails (1002, or 1009
// for a message over max_message_size). Before, only direct ws://
// connections failed in stream order: over TLS or through a proxy the
// reader failed the connection before the script had the message, and the
// echo never went out.
func TestFailInStreamOrderTransports(t *testing.T) {
	cases := streamOrderCases()
	first, last := cases[0], cases[len(cases)-1]
	tooBig := [][]byte{joinFrames(frame(true, 0, framing.OpText, "small"), frame(true, 0, framing.OpBinary, strings.Repeat("z", 100)))}
	const insecure = "tls = {insecure_skip_verify = true}"
	proxy := startConnectProxy(t)
	via := "proxy = \"http://" + proxy.addr + "\""
	tests := []struct {
		name  string
		tls   bool
		opts  string
		chops [][]byte
		echo  string
		code  int
	}{
		{"wss " + first.name, true, insecure, first.chops, first.echo, 1002},
		{"wss " + last.name, true, insecure, last.chops, last.echo, 1002},
		{"wss too big", true, insecure + ", max_message_size = 50", tooBig, "small", 1009},
		{"wss keepalive", true, insecure + ", ping_interval = 60000", first.chops, first.echo, 1002},
		{"proxy " + first.name, false, via, first.chops, first.echo, 1002},
		{"proxy too big", false, via + ", max_message_size = 50", tooBig, "small", 1009},
		{"ws keepalive " + last.name, false, "ping_interval = 60000", last.chops, last.echo, 1002},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := make(chan []string, 1)
			start := peerServer
			if tt.tls {
				start = peerServerTLS
			}
			url := start(t, rawPeer(tt.chops, got))
			out := mustRunLua(t, url, strings.ReplaceAll(echoScript, "OPTS", "{"+tt.opts+"}"))
			require.Equal(t, fmt.Sprintf("close\t1\t%d\tclient\n", tt.code), out)
			requirePeerSaw(t, got, fmt.Sprintf("text %q", tt.echo), fmt.Sprintf("close %d", tt.code))
		})
	}
}
