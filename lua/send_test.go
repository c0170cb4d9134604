package lua

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSendTypes(t *testing.T) {
	s := newServer(t, nil)
	out := mustRunLua(t, s.URL(), `
		local client = assert(websocket.connect(WS .. "/"))
		local ch = client:receive()
		local function expect(typ, data)
			local m = ch:receive()
			assert(m.type == typ and m.data == data, tostring(m.type) .. " " .. tostring(m.data))
			assert(m.code == nil and m.reason == nil)
		end
		print(client:send("hello"))                            ; expect("text", "hello")
		print(client:send("héllo", websocket.TYPE_TEXT))       ; expect("text", "héllo")
		print(client:send("\255\0", websocket.TYPE_BINARY))    ; expect("binary", "\255\0")
		print(client:send(""))                                 ; expect("text", "")
		print(client:send(42))                                 ; expect("text", "42")
		print(client:send("p1", websocket.TYPE_PING))          ; expect("pong", "p1")
		print(client:ping("p2"))                               ; expect("pong", "p2")
		print(client:ping())                                   ; expect("pong", "")
		print(client:send("unsolicited", websocket.TYPE_PONG)) -- the server ignores it
		print(client:send(string.rep("x", 125), websocket.TYPE_PING)) ; expect("pong", string.rep("x", 125))
		assert(client:close())
	`)
	require.Equal(t, strings.Repeat("true\n", 10), out)
}

func TestSendErrors(t *testing.T) {
	s := newServer(t, nil)
	tests := []struct {
		call string
		want string
	}{
		{`client:send("\255", websocket.TYPE_TEXT)`, "invalid UTF-8"},
		{`client:send("\255")`, "invalid UTF-8"},
		{`client:send("x", websocket.TYPE_CLOSE)`, "use client:close"},
		{`client:send("x", "fax")`, `unknown message type "fax"`},
		{`client:send("x", 1)`, "message type must be a string, got number"},
		{`client:send(nil)`, "data must be a string, got nil"},
		{`client:send({})`, "data must be a string, got table"},
		{`client:send(string.rep("x", 126), websocket.TYPE_PING)`, "ping payload is 126 bytes, at most 125"},
		{`client:send(string.rep("x", 126), websocket.TYPE_PONG)`, "pong payload is 126 bytes"},
		{`client:ping(string.rep("x", 126))`, "ping payload is 126 bytes"},
		{`client:ping(true)`, "ping data must be a string, got boolean"},
	}
	var src strings.Builder
	src.WriteString(`local client = assert(websocket.connect(WS .. "/"))` + "\n")
	for _, tt := range tests {
		src.WriteString("print(" + tt.call + ")\n")
	}
	// The connection is still usable after all those refusals.
	src.WriteString(`assert(client:send("still open")); local m = client:receive():receive(); print(m.data); assert(client:close())`)
	out := mustRunLua(t, s.URL(), src.String())
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, len(tests)+1, out)
	for i, tt := range tests {
		require.True(t, strings.HasPrefix(lines[i], "false\twebsocket: "), "%s -> %s", tt.call, lines[i])
		require.Contains(t, lines[i], tt.want, tt.call)
	}
	require.Equal(t, "still open", lines[len(tests)])
}

func TestMethodNeedsClient(t *testing.T) {
	s := newServer(t, nil)
	mustRunLua(t, s.URL(), `
		local client = assert(websocket.connect(WS .. "/"))
		for _, name in ipairs({"send", "close", "receive", "ping", "protocol"}) do
			local ok, err = pcall(client[name], "not a client")
			assert(not ok and err:find("websocket client expected"), name .. ": " .. tostring(err))
		end
		local ok, err = pcall(client.send)
		assert(not ok and err:find("websocket client expected"), err)
		assert(getmetatable(client) == "websocket.client")
		assert(client:close())
	`)
}

// TestConcurrentSendsDoNotInterleave sends from 50 coroutines at once; the
// echo server returns every message whole (an interleaved frame would fail
// the connection or corrupt a message).
func TestConcurrentSendsDoNotInterleave(t *testing.T) {
	s := newServer(t, nil)
	out := mustRunLua(t, s.URL(), `
		local client = assert(websocket.connect(WS .. "/"))
		local n = 50
		local done = channel.new(n)
		local function payload(i)
			return string.rep(string.char(65 + i % 26), 20000 + i) .. ":" .. i
		end
		for i = 1, n do
			coroutine.spawn(function()
				local ok, err = client:send(payload(i), i % 2 == 0 and websocket.TYPE_BINARY or websocket.TYPE_TEXT)
				done:send(ok or err)
			end)
		end
		for i = 1, n do assert(done:receive() == true) end
		local seen, ch = {}, client:receive()
		for _ = 1, n do
			local m = ch:receive()
			local i = tonumber(m.data:match(":(%d+)$"))
			assert(i and m.data == payload(i), "corrupt message")
			assert(m.type == (i % 2 == 0 and "binary" or "text"))
			assert(not seen[i], "duplicate")
			seen[i] = true
		end
		assert(client:close())
		print("ok")
	`)
	require.Equal(t, "ok\n", out)
}

// TestWriteTimeout: the /stall server stops reading, so the socket buffers
// fill up and a send fails once write_timeout expires; the connection then
// ends with a 1006 close message.
func TestWriteTimeout(t *testing.T) {
	s := newServer(t, nil)
	out := mustRunLua(t, s.URL(), `
		local client = assert(websocket.connect(WS .. "/stall", {write_timeout = 100}))
		local chunk = string.rep("x", 1024 * 1024)
		local ok, err
		for i = 1, 256 do
			ok, err = client:send(chunk, websocket.TYPE_BINARY)
			if not ok then break end
		end
		assert(not ok, "256 MiB went into a server that does not read")
		print(err)
		local m = client:receive():receive()
		print(m.type, m.code, m.reason)
		print(client:send("more"))
	`)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, 3, out)
	require.Contains(t, lines[0], "timeout")
	require.True(t, strings.HasPrefix(lines[1], "close\t1006\t"), lines[1])
	require.Contains(t, lines[1], "timeout")
	require.True(t, strings.HasPrefix(lines[2], "false\twebsocket: connection closed"), lines[2])
	t.Logf("%q", lines)
}

// Sent strings and received data share memory with the network layer
// (no copies): every message keeps its own bytes however many follow, and
// a string sent stays as it was.
func TestMessagesKeepTheirBytes(t *testing.T) {
	s := newServer(t, nil)
	out := mustRunLua(t, s.URL(), `
		local client = assert(websocket.connect(WS .. "/"))
		local ch = client:receive()
		local sent, got = {}, {}
		for i = 1, 50 do
			local size = ({0, 1, 16, 125, 126, 4096, 70000})[i % 7 + 1]
			sent[i] = string.rep(string.char(65 + i % 26), size) .. i
			assert(client:send(sent[i], i % 2 == 0 and websocket.TYPE_BINARY or websocket.TYPE_TEXT))
		end
		for i = 1, 50 do got[i] = ch:receive().data end
		for i = 1, 50 do
			assert(got[i] == sent[i], "message " .. i .. " changed")
			assert(sent[i] == string.rep(string.char(65 + i % 26), #sent[i] - #tostring(i)) .. i, "sent " .. i .. " changed")
		end
		print("ok")
		assert(client:close())
	`)
	require.Equal(t, "ok\n", out)
}
