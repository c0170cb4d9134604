package lua

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	glua "github.com/yuin/gopher-lua"
)

// TestCloseDeliversMessagesInFlight: messages the server sent before its
// close reply reach a script that keeps receiving, in order, then the
// server's close, even though client:close() is called right after the
// sends and the channel (capacity 1) keeps the reader waiting between two
// reads.
func TestCloseDeliversMessagesInFlight(t *testing.T) {
	s := newServer(t, nil)
	tests := []struct {
		name string
		n    int
		cap  int
	}{
		{"one message", 1, 64},
		{"more than the channel holds", 50, 1},
		{"unbuffered channel", 20, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := mustRunLua(t, s.URL(), fmt.Sprintf(`
				local n = %d
				local client = assert(websocket.connect(WS .. "/", {channel_capacity = %d, close_timeout = "10s"}))
				local done = channel.new()
				coroutine.spawn(function()
					local ch = client:receive()
					local got = 0
					while true do
						local m, ok = ch:receive()
						if not ok then break end
						if m.type == websocket.TYPE_TEXT then
							got = got + 1
							assert(m.data == "m" .. got, "message " .. got .. " is " .. m.data)
						else
							print(got, m.type, m.code)
						end
					end
					done:close()
				end)
				for i = 1, n do assert(client:send("m" .. i)) end
				local ok, err = client:close(websocket.CLOSE_CODES.NORMAL, "bye")
				done:receive()
				print(ok, err)
			`, tt.n, tt.cap))
			require.Equal(t, fmt.Sprintf("%d\tclose\t1000\ntrue\tnil\n", tt.n), out)
		})
	}
}

// TestCloseWithFullChannelNobodyReceives: a full channel nobody drains holds
// up the reader, so the server's close reply is never read: client:close()
// returns once close_timeout expired. Nothing the reader had taken is
// dropped: the buffered and the held message come first when the script
// receives later, then a final close message with 1006.
func TestCloseWithFullChannelNobodyReceives(t *testing.T) {
	s := newServer(t, nil)
	out, err := runLuaWith(t, s.URL(), func(L *glua.LState) {
		L.SetGlobal("handed", L.NewFunction(func(L *glua.LState) int {
			L.Push(glua.LNumber(L.CheckUserData(1).Value.(*client).handed.Load()))
			return 1
		}))
	}, `
		local client = assert(websocket.connect(WS .. "/", {channel_capacity = 1, close_timeout = 200}))
		for i = 1, 3 do assert(client:send("m" .. i)) end
		-- m1 fills the channel, the reader holds m2 and stops reading
		while handed(client) < 2 do time.sleep(1) end
		print(client:close())
		local ch = client:receive()
		while true do
			local m, ok = ch:receive()
			if not ok then break end
			print(m.type, m.code or m.data, m.reason)
		end
	`)
	require.NoError(t, err, out)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, 4, out)
	require.Equal(t, []string{"true", "text\tm1\tnil", "text\tm2\tnil"}, lines[:3])
	require.True(t, strings.HasPrefix(lines[3], "close\t1006\t"), lines[3])
	require.Contains(t, lines[3], "close timeout")
}
