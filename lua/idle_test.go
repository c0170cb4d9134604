package lua

import (
	"net"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
	glua "github.com/yuin/gopher-lua"
)

// heldScript holds N connections, each owned by a coroutine parked in
// ch:receive() on a quiet connection, calls measure(), then has every
// connection echo once (the main coroutine sends, the parked coroutine
// receives) and close; it prints the number that echoed.
const heldScript = `
local held, done, clients = channel.new(N), channel.new(N), {}
for i = 1, N do
  coroutine.spawn(function()
    local c = assert(websocket.connect(WS .. "/"))
    clients[i] = c
    local ch = c:receive()
    held:send(true)
    local m, open = ch:receive()
    assert(open and m.data == "held " .. i, "echo " .. i)
    c:close()
    done:send(true)
  end)
end
for i = 1, N do held:receive() end
time.sleep(0.05) -- every reader goes quiet
measure()
for i = 1, N do assert(clients[i]:send("held " .. i)) end
for i = 1, N do done:receive() end
print(N)`

// TestHeldConnectionMemory bounds the Go memory (live heap and goroutine
// stacks, both ends: the test server runs in this process) of a
// connection held by a coroutine parked in ch:receive(), and checks that
// every one still echoes afterwards. It was about 37 KB per connection
// pair: the coroutine's thread reserved 12 KB for 12,000 nested calls, the
// client's 4 KB read buffer was never released, its reader parked 4 KB of
// stack. bench's BenchmarkLuaHeld gives the client's figure alone.
func TestHeldConnectionMemory(t *testing.T) {
	srv := newServer(t, nil)
	const n = 400
	var before, after runtime.MemStats
	out, err := runLuaWith(t, srv.URL(), func(L *glua.LState) {
		L.SetGlobal("N", glua.LNumber(n))
		runtime.GC()
		runtime.ReadMemStats(&before)
		L.SetGlobal("measure", L.NewFunction(func(*glua.LState) int {
			runtime.GC()
			runtime.GC()
			runtime.ReadMemStats(&after)
			return 0
		}))
	}, heldScript)
	require.NoError(t, err, out)
	require.Equal(t, "400\n", out, "every held connection echoes")
	heap := (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / n
	stack := (float64(after.StackInuse) - float64(before.StackInuse)) / n
	t.Logf("per connection pair: heap %.0f B, stacks %.0f B", heap, stack)
	if raceEnabled {
		return // the race detector enlarges both
	}
	require.Less(t, heap+stack, float64(maxHeldPair), "Go memory per held connection pair")
}

// maxHeldPair bounds the Go memory of a held connection pair (measured:
// about 19 KB; the coroutine 5 KB, the server's end about 6 KB).
const maxHeldPair = 25 << 10

// TestIdleReaderWaitsShallow: the protocol gets the bare socket of a
// ws:// client without keepalive (so it releases its read buffer and
// waits for the next message on a shallow stack while the connection is
// quiet), and what arrives after a quiet spell is delivered whole and in
// order: single messages, and a burst of pipelined echoes that the
// protocol buffers together.
func TestIdleReaderWaitsShallow(t *testing.T) {
	srv := newServer(t, nil)
	var client *client
	out, err := runLuaWith(t, srv.URL(), func(L *glua.LState) {
		L.SetGlobal("grab", L.NewFunction(func(L *glua.LState) int {
			client = checkClient(L)
			return 0
		}))
	}, `
		local c = assert(websocket.connect(WS .. "/"))
		grab(c)
		local ch = c:receive()
		for round = 1, 3 do
			time.sleep(0.05)
			for i = 1, 40 do assert(c:send(round .. ":" .. i)) end
			for i = 1, 40 do
				local m = ch:receive()
				assert(m.data == round .. ":" .. i, "got " .. tostring(m.data) .. ", want " .. round .. ":" .. i)
			end
		end
		c:close()
		print("ok")`)
	require.NoError(t, err, out)
	require.Equal(t, "ok\n", out)
	require.NotNil(t, client)
	require.IsType(t, (*net.TCPConn)(nil), client.conn.NetConn(), "the protocol reads the bare socket")
}

// TestFirstMessageWithHandshake: frames that arrive with the handshake's
// response (the protocol holds them before the reader starts) are read
// before any wait.
func TestFirstMessageWithHandshake(t *testing.T) {
	srv := newServer(t, nil)
	out, err := runLua(t, nil, srv.URL(), `
		local c = assert(websocket.connect(WS .. "/send?text=one&text=two"))
		local ch = c:receive()
		print(ch:receive().data, ch:receive().data)
		c:close()`)
	require.NoError(t, err, out)
	require.Equal(t, "one\ttwo\n", out)
}
