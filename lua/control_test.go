package lua

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	glua "github.com/yuin/gopher-lua"
)

// report is the testserver's JSON report of /ping and /pingflood.
type report struct {
	Count   int      `json:"count"`
	Pongs   []string `json:"pongs"`
	InOrder bool     `json:"inorder"`
}

// TestServerPingsAreAnsweredAndDelivered: pings are answered automatically
// (the server reports the pongs) and also delivered as TYPE_PING messages.
func TestServerPingsAreAnsweredAndDelivered(t *testing.T) {
	s := newServer(t, nil)
	out := mustRunLua(t, s.URL(), `
		local client = assert(websocket.connect(WS .. "/ping?data=hello&count=3"))
		local ch = client:receive()
		for i = 0, 2 do
			local m = ch:receive()
			assert(m.type == websocket.TYPE_PING and m.data == "hello" .. i, m.type .. " " .. m.data)
		end
		local m = ch:receive()
		assert(m.type == websocket.TYPE_TEXT)
		print(m.data)
		assert(client:close())
	`)
	var r report
	require.NoError(t, json.Unmarshal([]byte(out), &r), out)
	require.Equal(t, 3, r.Count)
	require.True(t, r.InOrder)
}

func TestUnsolicitedPongDelivered(t *testing.T) {
	s := newServer(t, nil)
	out := mustRunLua(t, s.URL(), `
		local client = assert(websocket.connect(WS .. "/pong?data=beat"))
		local m = client:receive():receive()
		print(m.type, m.data)
		assert(client:close())
	`)
	require.Equal(t, "pong\tbeat\n", out)
}

// TestBackpressure: with channel_capacity 1 and nobody receiving, the
// reader stops at a full channel instead of buffering the flood; once the
// script drains, every data message arrives, in order, and every ping was
// answered. Pings that found the channel full were not delivered (a ping
// never holds up the reader); those delivered come in order, each before
// the data message the server sent after it.
func TestBackpressure(t *testing.T) {
	s := newServer(t, nil)
	out, err := runLuaWith(t, s.URL(), func(L *glua.LState) {
		L.SetGlobal("handed", L.NewFunction(func(L *glua.LState) int {
			L.Push(glua.LNumber(L.CheckUserData(1).Value.(*client).handed.Load()))
			return 1
		}))
	}, `
		local n = 500
		local client = assert(websocket.connect(WS .. "/pingflood?n=" .. n .. "&every=1", {channel_capacity = 1}))
		local ch = client:receive()
		time.sleep(100) -- the server floods meanwhile; the reader must be stuck
		assert(ch:cap() == 1 and ch:len() <= 1, "buffered " .. ch:len())
		-- one message buffered, one held by the blocked reader: no more read
		assert(handed(client) <= 2, "reader went on reading: " .. handed(client))
		local pings, i = 0, 0
		while i < n do
			local m = ch:receive()
			if m.type == "ping" then
				assert(m.data == tostring(i), "ping " .. m.data .. " before data-" .. i)
				pings = pings + 1
			else
				assert(m.type == "text" and m.data == "data-" .. i, m.type .. " " .. m.data)
				i = i + 1
			end
		end
		-- no suffix when every ping found room (the script drained fast enough)
		local dropped = tonumber(tostring(client):match(", (%d+) pings/pongs not delivered%)$") or "0")
		assert(pings >= 1 and dropped and pings + dropped == n, pings .. " + " .. tostring(dropped) .. " ~= " .. n)
		local m = ch:receive()
		print(m.data)
		assert(client:close())
	`)
	require.NoError(t, err, out)
	var r report
	require.NoError(t, json.Unmarshal([]byte(out), &r), out)
	require.Equal(t, 500, r.Count)
}

// TestNeverReceiving: a script that never calls receive() and lets the
// channel fill still gets its close done within close_timeout (the reader
// holds a message, so the peer's reply is never read) and ends.
func TestNeverReceiving(t *testing.T) {
	s := newServer(t, nil)
	out := mustRunLua(t, s.URL(), `
		local client = assert(websocket.connect(WS .. "/", {channel_capacity = 2, close_timeout = 200}))
		for i = 1, 100 do assert(client:send("m" .. i)) end
		print(client:close())
	`)
	require.Equal(t, "true\n", out)
}

// TestScriptClosesReceiveChannel: if the script closes the receive channel
// itself, the reader discards the rest and the connection still ends.
func TestScriptClosesReceiveChannel(t *testing.T) {
	s := newServer(t, nil)
	out := mustRunLua(t, s.URL(), `
		local client = assert(websocket.connect(WS .. "/"))
		local ch = client:receive()
		ch:close()
		assert(client:send("x"))
		print(ch:receive())
		print(client:close())
	`)
	require.Equal(t, "nil\tfalse\ntrue\n", strings.ReplaceAll(out, "\r", ""))
}

// TestCloseAfterControlFoundChannelFull: a pong that finds the receive
// channel full (capacity 0: always) is not delivered and does not hold up
// the reader, so client:close() completes its handshake at once rather than
// after close_timeout (60 s here, beyond the test's timeout).
func TestCloseAfterControlFoundChannelFull(t *testing.T) {
	s := newServer(t, nil)
	out, err := runLua(t, nil, s.URL(), `
		local client = assert(websocket.connect(WS .. "/pong?data=x", {channel_capacity = 0, close_timeout = "60s"}))
		while not tostring(client):find(", 1 pings/pongs not delivered%)$") do time.sleep(1) end
		print(client:close())
		local m = client:receive():receive()
		print(m.type, m.code)
	`)
	require.NoError(t, err, out)
	require.Equal(t, "true\nclose\t1000\n", out)
}
