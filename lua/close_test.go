package lua

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/testserver"
)

func TestCloseRefusesBadArguments(t *testing.T) {
	s := newServer(t, nil)
	tests := []struct {
		args string
		want string
	}{
		{"999", "close code 999 may not be sent"},
		{"1004", "close code 1004 may not be sent"},
		{"1005", "close code 1005 may not be sent"},
		{"1006", "close code 1006 may not be sent"},
		{"1015", "close code 1015 may not be sent"},
		{"1016", "close code 1016 may not be sent"},
		{"2999", "close code 2999 may not be sent"},
		{"5000", "close code 5000 may not be sent"},
		{"0", "close code 0 may not be sent"},
		{"-1", "close code -1 may not be sent"},
		{"1000.5", "may not be sent"},
		{"0/0", "may not be sent"},
		{"1e300", "may not be sent"},
		{`"1000"`, "close code must be a number, got string"},
		{`1000, 5`, "close reason must be a string, got number"},
		{`1000, string.rep("r", 124)`, "close reason is 124 bytes, at most 123"},
		{`1000, "\255"`, "close reason is not valid UTF-8"},
	}
	var src strings.Builder
	src.WriteString(`local client = assert(websocket.connect(WS .. "/"))` + "\n")
	for _, tt := range tests {
		src.WriteString("print(client:close(" + tt.args + "))\n")
	}
	src.WriteString(`print(tostring(client):match("open") ~= nil); print(client:close(1000, string.rep("r", 123)))`)
	out := mustRunLua(t, s.URL(), src.String())
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, len(tests)+2, out)
	for i, tt := range tests {
		require.True(t, strings.HasPrefix(lines[i], "false\twebsocket: "), "%s -> %s", tt.args, lines[i])
		require.Contains(t, lines[i], tt.want, tt.args)
	}
	require.Equal(t, "true", lines[len(tests)], "refused closes leave the client open")
	require.Equal(t, "true", lines[len(tests)+1])
}

// TestCloseSendsCode checks every sendable class of code arrives at the
// server and comes back in the final close message.
func TestCloseSendsCode(t *testing.T) {
	events := make(chan testserver.CloseEvent, 16)
	s := newServer(t, &testserver.Options{OnClose: func(ev testserver.CloseEvent) { events <- ev }})
	for _, code := range []int{1000, 1001, 1002, 1003, 1007, 1011, 1014, 3000, 4999} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			out := mustRunLua(t, s.URL(), fmt.Sprintf(`
				local client = assert(websocket.connect(WS .. "/"))
				print(client:close(%d, "reason %d"))
				local m = client:receive():receive()
				print(m.type, m.code)
			`, code, code))
			require.Equal(t, fmt.Sprintf("true\nclose\t%d\n", code), out)
			ev := <-events
			require.Equal(t, code, int(ev.Code))
			require.Equal(t, fmt.Sprintf("reason %d", code), ev.Reason)
		})
	}
}

func TestCloseTwiceAndSendAfterClose(t *testing.T) {
	s := newServer(t, nil)
	out := mustRunLua(t, s.URL(), `
		local client = assert(websocket.connect(WS .. "/"))
		print(client:close())
		print(client:close())
		print(client:close(4000, "again"))
		print(client:send("late"))
		print(client:ping())
		print(client:close(1004)) -- still validated
	`)
	require.Equal(t, "true\ntrue\ntrue\nfalse\twebsocket: connection closed\nfalse\twebsocket: connection closed\n"+
		"false\twebsocket: close code 1004 may not be sent (use 1000-1003, 1007-1014 or 3000-4999)\n", out)
}

// TestConcurrentClose closes from many coroutines at once: all succeed and
// one close frame is sent.
func TestConcurrentClose(t *testing.T) {
	events := make(chan testserver.CloseEvent, 1)
	s := newServer(t, &testserver.Options{OnClose: func(ev testserver.CloseEvent) { events <- ev }})
	out := mustRunLua(t, s.URL(), `
		local client = assert(websocket.connect(WS .. "/"))
		local results = channel.new(10)
		for i = 1, 10 do
			coroutine.spawn(function() results:send(client:close(4000 + i)) end)
		end
		for i = 1, 10 do assert(results:receive() == true) end
		local m = client:receive():receive()
		print(m.type, m.code > 4000 and m.code <= 4010)
	`)
	require.Equal(t, "close\ttrue\n", out)
	ev := <-events
	require.Greater(t, int(ev.Code), 4000)
}

// TestCloseWakesBlockedReceiver: a coroutine blocked in ch:receive() is woken
// by client:close() from another coroutine, gets the close message, then
// nil, false.
func TestCloseWakesBlockedReceiver(t *testing.T) {
	s := newServer(t, nil)
	out := mustRunLua(t, s.URL(), `
		local client = assert(websocket.connect(WS .. "/"))
		local done = channel.new()
		coroutine.spawn(function()
			local ch = client:receive()
			print("receiver waiting")
			local m, ok = ch:receive()
			print("receiver got", m.type, m.code, ok)
			print("receiver then", ch:receive())
			done:close()
		end)
		coroutine.yield() -- let the receiver block
		print("closing")
		local ok, err = client:close(websocket.CLOSE_CODES.NORMAL, "Goodbye")
		done:receive()
		print("close", ok, err)
	`)
	require.Equal(t, "receiver waiting\nclosing\nreceiver got\tclose\t1000\ttrue\nreceiver then\tnil\tfalse\nclose\ttrue\tnil\n", out)
}
