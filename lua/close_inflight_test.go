package lua

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/protocol"
)

// slowReader reads one message of size bytes "x" in 64 KiB pieces with a
// pause between them, then the next frame, and reports what it got on out.
func slowReader(size int, out chan<- string) func(ctx context.Context, conn *protocol.Conn) {
	return func(ctx context.Context, conn *protocol.Conn) {
		report := func(format string, args ...any) {
			select {
			case out <- fmt.Sprintf(format, args...):
			case <-ctx.Done():
			}
		}
		_, r, err := conn.Reader(ctx)
		if err != nil {
			report("reader: %v", err)
			return
		}
		var got bytes.Buffer
		buf := make([]byte, 64<<10)
		for {
			n, err := r.Read(buf)
			got.Write(buf[:n])
			if err == io.EOF {
				break
			}
			if err != nil {
				report("read after %d bytes: %v", got.Len(), err)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		whole := got.Len() == size && bytes.Count(got.Bytes(), []byte("x")) == size
		_, _, err = conn.Read(ctx)
		var ce *protocol.CloseError
		if errors.As(err, &ce) {
			report("message %d bytes, whole %v; then close %d remote %v", got.Len(), whole, ce.Code, ce.Remote)
			return
		}
		report("message %d bytes, whole %v; then %v", got.Len(), whole, err)
	}
}

// TestCloseWaitsForSendInFlight: client:close() called while another
// coroutine's 8 MiB send is being written to a slowly reading peer waits
// for that send, then sends its close frame: the send succeeds and the
// peer gets the whole message, then the close.
func TestCloseWaitsForSendInFlight(t *testing.T) {
	for _, wait := range []int{0, 30} {
		t.Run(fmt.Sprintf("close after %d ms", wait), func(t *testing.T) {
			got := make(chan string, 1)
			url := peerServer(t, slowReader(8<<20, got))
			out := mustRunLua(t, url, `
				local client = assert(websocket.connect(WS))
				local big = string.rep("x", 8 * 1024 * 1024)
				local result = channel.new(1)
				coroutine.spawn(function()
					local ok, err = client:send(big, websocket.TYPE_BINARY)
					result:send(tostring(ok) .. " " .. tostring(err))
				end)
				time.sleep(`+fmt.Sprint(wait)+`) -- the send coroutine runs: its send is under way
				print("close", client:close(1000, "done"))
				print("send", (result:receive()))
				print(tostring(client))
			`)
			require.Equal(t, "close\ttrue\nsend\ttrue nil\nwebsocket.client("+url+", closed)\n", out)
			select {
			case s := <-got:
				require.Equal(t, "message 8388608 bytes, whole true; then close 1000 remote true", s)
			case <-time.After(10 * time.Second):
				t.Fatal("the server reported nothing")
			}
		})
	}
}

// TestCloseWaitForSendsIsBounded: a send that cannot finish (the peer never
// reads) holds client:close() up for close_timeout at most; then the
// connection is closed and the send fails.
func TestCloseWaitForSendsIsBounded(t *testing.T) {
	url := peerServer(t, flooder(0))
	out := mustRunLua(t, url, `
		local client = assert(websocket.connect(WS, {close_timeout = 200}))
		local big = string.rep("x", 32 * 1024 * 1024)
		local result = channel.new(1)
		coroutine.spawn(function()
			local ok, err = client:send(big, websocket.TYPE_BINARY)
			result:send(tostring(ok))
		end)
		time.sleep(50)
		print("close", client:close())
		print("send", (result:receive()))
		print(tostring(client))
	`)
	// The close frame could not go out behind the stuck send: close says
	// so (false, err) once the bound passed, and the connection is closed.
	require.Equal(t, "close\tfalse\twebsocket: control frame not sent within its timeout (is the peer reading?)\n"+
		"send\tfalse\nwebsocket.client("+url+", closed)\n", out)
}
