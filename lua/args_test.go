package lua

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestExtraArgumentsRaise: no function of the module ignores an argument
// it does not take (issue 10, item 5, which the scheduler's functions
// already followed): each call raises an error saying what the function
// takes, before it sends, closes or blocks. Before, the extra arguments
// were ignored (client:receive(100) returned the channel, connect with a
// third argument connected, client:read(1, 2) returned nil and an error
// value that a read loop took for the end).
func TestExtraArgumentsRaise(t *testing.T) {
	s := newServer(t, nil)
	tests := []struct{ expr, want string }{
		{`c:receive(100)`, "client:receive() takes no arguments, got 1 (to wait with a timeout use client:read(timeout))"},
		{`c:receive(nil)`, "client:receive() takes no arguments, got 1"},
		{`c:protocol("chat")`, "client:protocol() takes no arguments, got 1"},
		{`c:extensions(1)`, "client:extensions() takes no arguments, got 1"},
		{`c:send("x", websocket.TYPE_TEXT, 1)`, "client:send(data [, type]) takes at most 2 arguments, got 3"},
		{`c:ping("x", 1)`, "client:ping([data]) takes at most 1 argument, got 2"},
		{`c:close(1000, "bye", 1)`, "client:close([code [, reason]]) takes at most 2 arguments, got 3"},
		{`c:read(1, 2)`, "client:read([timeout]) takes at most 1 argument, got 2"},
		{`websocket.connect(WS .. "/", {}, 1)`, "websocket.connect(url [, options]) takes at most 2 arguments, got 3"},
		{`websocket.connect(WS .. "/", nil, nil)`, "websocket.connect(url [, options]) takes at most 2 arguments, got 3"},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			out, err := runLua(t, nil, s.URL(), `
				local c = assert(websocket.connect(WS .. "/"))
				local ok, err = pcall(function() return `+tc.expr+` end)
				-- the call had no effect: the client is open and echoes
				assert(tostring(c):find(", open%)$"), tostring(c))
				assert(c:send("still"))
				local m = c:read("5s")
				assert(m and m.data == "still", "echo: " .. tostring(m and m.data))
				assert(c:close())
				print(ok, err)`)
			require.NoError(t, err, out)
			require.Contains(t, out, "false\t")
			require.Contains(t, out, tc.want)
		})
	}
}

// TestArgumentChecksKeepValidCalls: the calls with every optional argument
// given, or none, still work.
func TestArgumentChecksKeepValidCalls(t *testing.T) {
	s := newServer(t, nil)
	out := mustRunLua(t, s.URL(), `
		local c = assert(websocket.connect(WS .. "/", {}))
		assert(c:send("a", websocket.TYPE_TEXT))
		assert(c:send("b"))
		assert(c:ping("p"))
		assert(c:ping())
		print(c:protocol(), c:extensions(), c:receive() == c:receive())
		local got = {}
		while #got < 4 do
			local m = assert(c:read(5000))
			got[#got + 1] = m.type .. ":" .. m.data
		end
		print(table.concat(got, " "))
		print(c:close(1000, "bye"))
		print(c:close())`)
	require.Equal(t, "nil\tnil\ttrue\ntext:a text:b pong:p pong:\ntrue\ntrue\n", out)
}
