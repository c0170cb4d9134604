package lua

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/handshake"
	"github.com/wslua/wslua/protocol"
)

// peerServer is a WebSocket server run by a Go function per connection,
// for behaviours testserver has no path for. Its URL has no trailing
// slash. The handlers' goroutines end before the test does.
func peerServer(t *testing.T, run func(ctx context.Context, conn *protocol.Conn)) string {
	t.Helper()
	return startPeer(t, run, httptest.NewServer)
}

// peerServerTLS is peerServer over TLS (a wss:// URL; the certificate is
// self-signed).
func peerServerTLS(t *testing.T, run func(ctx context.Context, conn *protocol.Conn)) string {
	t.Helper()
	return startPeer(t, run, httptest.NewTLSServer)
}

func startPeer(t *testing.T, run func(ctx context.Context, conn *protocol.Conn), newServer func(http.Handler) *httptest.Server) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	hs := newServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wg.Add(1)
		defer wg.Done()
		conn, err := handshake.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.CloseNow()
		run(ctx, conn)
	}))
	t.Cleanup(func() {
		cancel()
		hs.CloseClientConnections()
		hs.Close()
		wg.Wait()
	})
	return "ws" + strings.TrimPrefix(hs.URL, "http")
}

// sink reads and discards every message (answering pings) and never sends
// a data message; it counts the messages it read.
func sink(count *atomic.Int64) func(ctx context.Context, conn *protocol.Conn) {
	return func(ctx context.Context, conn *protocol.Conn) {
		for {
			if _, _, err := conn.Read(ctx); err != nil {
				return
			}
			count.Add(1)
		}
	}
}

// TestKeepaliveSendOnlyClientStaysUp: a client that only sends, with
// keepalive on, against a server that never sends data, stays up for 100
// ping intervals; the pongs answering the automatic pings are not
// delivered (the channel stays empty). Before, they filled the receive
// channel (capacity 4 here), the reader stopped, and the connection died
// with a pong timeout after about 5 intervals plus pong_timeout.
func TestKeepaliveSendOnlyClientStaysUp(t *testing.T) {
	var got atomic.Int64
	url := peerServer(t, sink(&got))
	out, err := runLua(t, nil, url, `
		local client = assert(websocket.connect(WS, {ping_interval = 20, pong_timeout = "1s", channel_capacity = 4}))
		local ch = client:receive()
		for i = 1, 100 do
			local ok, err = client:send("m" .. i)
			assert(ok, "send " .. i .. ": " .. tostring(err))
			assert(tostring(client):find(", open%)$"), tostring(client))
			time.sleep(20)
		end
		assert(ch:len() == 0, "delivered: " .. ch:len())
		assert(client:close())
		local m = ch:receive()
		print(m.type, m.code)
	`)
	require.NoError(t, err, out)
	require.Equal(t, "close\t1000\n", out)
	require.Equal(t, int64(100), got.Load())
}

// TestKeepalivePongsNotDelivered: with keepalive on, the pong answering
// client:ping() is delivered and the automatic ones are not.
func TestKeepalivePongsNotDelivered(t *testing.T) {
	s := newServer(t, nil)
	out := mustRunLua(t, s.URL(), `
		local client = assert(websocket.connect(WS .. "/", {ping_interval = 5, pong_timeout = "5s"}))
		local ch = client:receive()
		time.sleep(100) -- about 20 automatic pings, answered
		assert(ch:len() == 0, "delivered: " .. ch:len())
		assert(client:ping("mine"))
		local m = ch:receive()
		print(m.type, m.data)
		assert(client:ping()) -- an empty one too
		m = ch:receive()
		print(m.type, m.data)
		assert(client:close())
	`)
	require.Equal(t, "pong\tmine\npong\t\n", out)
}

// TestKeepaliveUnsolicitedPongDelivered: pongs the peer sends on its own
// are delivered with keepalive on, as without.
func TestKeepaliveUnsolicitedPongDelivered(t *testing.T) {
	s := newServer(t, nil)
	out := mustRunLua(t, s.URL(), `
		local client = assert(websocket.connect(WS .. "/pong?data=beat", {ping_interval = 10, pong_timeout = "5s"}))
		local m = client:receive():receive()
		print(m.type, m.data)
		assert(client:close())
	`)
	require.Equal(t, "pong\tbeat\n", out)
}

// flooder sends n text messages, then neither reads nor writes (no pong
// ever answers a ping) until the test ends.
func flooder(n int) func(ctx context.Context, conn *protocol.Conn) {
	return func(ctx context.Context, conn *protocol.Conn) {
		for i := range n {
			if conn.Write(ctx, protocol.MessageText, []byte("flood "+string(rune('a'+i%26)))) != nil {
				return
			}
		}
		<-ctx.Done()
	}
}

// TestEndWhileNotReading: the script does not read its receive channel
// (capacity 1, the server sent more), so the reader is held up; whatever
// ends the connection, tostring(client) says closed at once, not "open"
// until the channel is drained, and the final close message names the
// cause ("the script is not reading its receive channel" for a pong
// timeout).
func TestEndWhileNotReading(t *testing.T) {
	tests := []struct {
		name   string
		opts   string
		action string
		code   int
		reason string
	}{
		{"pong timeout", `{ping_interval = 20, pong_timeout = 100, channel_capacity = 1}`, "", 1006,
			"no pong within pong_timeout (100ms): the script is not reading its receive channel"},
		{"our close, unanswered", `{close_timeout = 100, channel_capacity = 1}`, `assert(client:close(4000, "bye"))`, 1006, "no close frame from the peer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := peerServer(t, flooder(5))
			src := strings.NewReplacer("OPTS", tt.opts, "ACTION", tt.action).Replace(`
				local client = assert(websocket.connect(WS, OPTS))
				local ch = client:receive()
				ACTION
				local waited = 0
				while not tostring(client):find(", closed%)$") do
					assert(waited < 5000, "still " .. tostring(client))
					time.sleep(10)
					waited = waited + 10
				end
				local sent, err = client:send("x")
				assert(not sent)
				print("send", err)
				local last
				while true do
					local m, ok = ch:receive()
					if not ok then break end
					last = m
				end
				print(last.code, last.reason, last.initiator)
			`)
			out, err := runLua(t, nil, url, src)
			require.NoError(t, err, out)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			require.Len(t, lines, 2, out)
			require.Contains(t, lines[0], "connection closed")
			require.Contains(t, lines[1], tt.reason)
			require.True(t, strings.HasSuffix(lines[1], "\tclient"), "initiator: %s", lines[1])
			require.True(t, strings.HasPrefix(lines[1], strconv.Itoa(tt.code)+"\t"), lines[1])
		})
	}
}

// TestKeepaliveTimeoutWaitsForPong: a server that answers nothing while
// the script reads ends with a pong timeout naming pong_timeout, and
// without mentioning the receive channel.
func TestKeepaliveTimeoutWaitsForPong(t *testing.T) {
	url := peerServer(t, flooder(0))
	out := mustRunLua(t, url, `
		local client = assert(websocket.connect(WS, {ping_interval = 20, pong_timeout = 100}))
		local m = client:receive():receive()
		print(m.code, m.reason)
	`)
	require.Equal(t, "1006\tno pong within pong_timeout (100ms)\n", out)
}

// TestDropAfterLongStallNamesTheChannel: the script left its receive
// channel full for over a second and the peer then dropped the
// connection: the reason of the final close message mentions it.
func TestDropAfterLongStallNamesTheChannel(t *testing.T) {
	url := peerServer(t, func(ctx context.Context, conn *protocol.Conn) {
		for range 3 {
			if conn.Write(ctx, protocol.MessageText, []byte("m")) != nil {
				return
			}
		}
		select {
		case <-time.After(1200 * time.Millisecond):
		case <-ctx.Done():
		}
		_ = conn.NetConn().Close()
	})
	out := mustRunLua(t, url, `
		local client = assert(websocket.connect(WS, {channel_capacity = 1}))
		time.sleep(1500) -- not receiving
		local ch = client:receive()
		local last
		while true do
			local m, ok = ch:receive()
			if not ok then break end
			last = m
		end
		print(last.code, last.reason)
	`)
	require.Contains(t, out, "1006\tconnection lost")
	require.Contains(t, out, "while the receive channel was full: the script is not reading its receive channel)")
}

// TestKeepaliveDuringLongSend: a large send to a peer that reads slowly
// takes several pong timeouts, and the automatic ping waits behind it; the
// connection is healthy (the peer reads, bytes move) and must stay up.
// Before, it ended with "no pong within pong_timeout". (TCP lets a sender
// wait for the peer's window to open in steps of about 100 ms here, so
// pong_timeout is well above that, and the send takes longer.)
func TestKeepaliveDuringLongSend(t *testing.T) {
	got := make(chan string, 1)
	url := peerServer(t, slowReader(16<<20, got))
	out := mustRunLua(t, url, `
		local client = assert(websocket.connect(WS, {ping_interval = 20, pong_timeout = 1000}))
		print(client:send(string.rep("x", 16 * 1024 * 1024), websocket.TYPE_BINARY))
		print(tostring(client):match(", (%a+)%)$"))
		print(client:close())
	`)
	require.Equal(t, "true\nopen\ntrue\n", out)
	select {
	case s := <-got:
		require.Equal(t, "message 16777216 bytes, whole true; then close 1000 remote true", s)
	case <-time.After(20 * time.Second):
		t.Fatal("the server reported nothing")
	}
}

// TestKeepaliveDetectsPeerNotReading: a peer that stops reading while we
// send (our write stalls on a full socket buffer, nothing moves) is still
// found dead by the keepalive, though its ping never gets written.
func TestKeepaliveDetectsPeerNotReading(t *testing.T) {
	url := peerServer(t, flooder(0))
	out := mustRunLua(t, url, `
		local client = assert(websocket.connect(WS, {ping_interval = 20, pong_timeout = 200}))
		print(client:send(string.rep("x", 64 * 1024 * 1024), websocket.TYPE_BINARY))
	`)
	require.Equal(t, "false\twebsocket: connection closed (1006 no pong within pong_timeout (200ms))\n", out)
}

// TestKeepaliveCatchesPeerThatNeverPongs: a peer that reads everything but
// never answers a ping is caught within pong_timeout whatever the script
// sends meanwhile, small messages (written at once, past the meter) or
// large ones: once the ping is on the wire, only bytes from the peer are
// signs of life (the kernel takes what we send whether or not the peer is
// there).
func TestKeepaliveCatchesPeerThatNeverPongs(t *testing.T) {
	s := newServer(t, nil)
	for _, size := range []int{16, 1 << 20} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			out := mustRunLua(t, s.URL(), `
				local client = assert(websocket.connect(WS .. "/stall?drain=1", {ping_interval = 20, pong_timeout = 300}))
				local msg = string.rep("m", `+fmt.Sprint(size)+`)
				for i = 1, 150 do
					local ok, err = client:send(msg)
					if not ok then print(err) break end
					time.sleep(20)
				end
				print(tostring(client):match(", (%a+)%)$"))
			`)
			require.Equal(t, "websocket: connection closed (1006 no pong within pong_timeout (300ms))\nclosed\n", out)
		})
	}
}
