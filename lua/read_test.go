package lua

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	glua "github.com/yuin/gopher-lua"
)

// TestClientRead checks client:read([timeout]) (issue 10, item 5): a
// timed-out read leaves the connection open and a later read gets the next
// message; after the final close message it returns nil, "closed".
func TestClientRead(t *testing.T) {
	s := newServer(t, nil)
	out := mustRunLua(t, s.URL(), `
		local c = assert(websocket.connect(WS .. "/"))
		print(c:read(20))
		print(c:read(0))
		coroutine.spawn(function() time.sleep(30) assert(c:send("late")) end)
		print(c:read("5ms"))
		local m = c:read("5s")
		print(m.type, m.data)
		assert(c:send("b"))
		print(c:read().data)
		print(tostring(c):match("open") ~= nil)
		print(c:read("soon"))
		print(pcall(c.read, c, 1, 2))
		assert(c:close())
		m = c:read()
		print(m.type, m.code)
		print(c:read(10))
		print(c:read())`)
	require.Equal(t, "nil\ttimeout\n"+
		"nil\ttimeout\n"+
		"nil\ttimeout\n"+
		"text\tlate\n"+
		"b\n"+
		"true\n"+
		"nil\twebsocket: read timeout: invalid duration \"soon\": want a number of milliseconds or a duration such as \"250ms\" or \"5s\"\n"+
		"false\t<string>:13: client:read([timeout]) takes at most 1 argument, got 2\n"+
		"close\t1000\n"+
		"nil\tclosed\n"+
		"nil\tclosed\n", out)
}

// TestClientReadLoop is the plain loop the README shows: read with a
// timeout until the connection ends, doing other work on timeouts.
func TestClientReadLoop(t *testing.T) {
	s := newServer(t, nil)
	out := mustRunLua(t, s.URL(), `
		local c = assert(websocket.connect(WS .. "/"))
		coroutine.spawn(function()
			for i = 1, 3 do time.sleep(15) assert(c:send("m" .. i)) end
			time.sleep(15)
			assert(c:close())
		end)
		local got, timeouts = {}, 0
		while true do
			local msg, err = c:read(5)
			if msg then
				got[#got + 1] = msg.type .. ":" .. msg.data
			elseif err == "timeout" then
				timeouts = timeouts + 1
			else
				print(err)
				break
			end
		end
		print(table.concat(got, " "), timeouts > 0)`)
	require.Equal(t, "closed\ntext:m1 text:m2 text:m3 close:\ttrue\n", out)
}

// TestClientReadWithoutScheduler checks client:read in plain gopher-lua
// (no scheduler.Run): it blocks the goroutine up to the timeout.
func TestClientReadWithoutScheduler(t *testing.T) {
	s := newServer(t, nil)
	L := NewState()
	defer L.Close()
	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	defer cancel()
	L.SetContext(ctx)
	Open(L)
	var out syncBuffer
	capturePrint(L, &out)
	L.SetGlobal("WS", glua.LString(s.URL()))
	require.NoError(t, L.DoString(`
		local c = assert(websocket.connect(WS .. "/"))
		print(c:read(10))
		assert(c:send("x"))
		print(c:read(5000).data)
		assert(c:close())
		print(c:read().type)
		print(c:read())`))
	require.Equal(t, "nil\ttimeout\nx\nclose\nnil\tclosed\n", out.String())
}

// TestReadInForInIterator documents why there is no client:messages():
// gopher-lua calls a for-in iterator from a nested VM loop, where a call
// that may suspend raises instead (whether or not a message is waiting).
func TestReadInForInIterator(t *testing.T) {
	s := newServer(t, nil)
	out, err := runLua(t, nil, s.URL(), `
		local c = assert(websocket.connect(WS .. "/"))
		assert(c:send("m"))
		local ok, e = pcall(function()
			for msg in function() return c:read() end do print(msg.data) end
		end)
		print(ok, e:match("non%-yieldable") ~= nil)
		local msg = c:read()
		print(msg.data)`)
	require.NoError(t, err, out)
	require.Equal(t, "false\ttrue\nm\n", out)
}
