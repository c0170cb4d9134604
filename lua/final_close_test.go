package lua

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// finalCloseScript connects to URL with OPTS, runs ACTION, drains the
// receive channel and prints the final close message; it also checks that
// exactly one close message came, that the channel stays closed, that send
// fails with "closed" and that close is harmless afterwards.
const finalCloseScript = `
	local client, err = websocket.connect(URL, OPTS)
	assert(client, err)
	local ch = client:receive()
	ACTION
	local last, closes = nil, 0
	while true do
		local m, ok = ch:receive()
		if not ok then break end
		if m.type == websocket.TYPE_CLOSE then
			closes = closes + 1
			assert(tostring(client):find(", closed%)$"), "at the close message: " .. tostring(client))
		end
		last = m
	end
	assert(closes == 1, "close messages: " .. closes)
	assert(last.type == websocket.TYPE_CLOSE, last.type)
	assert(last.data == last.reason)
	assert(last.initiator == "client" or last.initiator == "server", tostring(last.initiator))
	print(last.code, last.initiator, last.reason)
	local v, ok = ch:receive()
	assert(v == nil and ok == false)
	local sent, serr = client:send("x")
	assert(sent == false and serr:find("closed"), tostring(serr))
	assert(client:close() == true)
	assert(tostring(client):find(", closed%)$"), tostring(client))
`

func TestFinalCloseMessage(t *testing.T) {
	s := newServer(t, nil)
	tests := []struct {
		name      string
		path      string
		opts      string
		action    string
		code      int
		initiator string
		reason    string // substring of the reason
	}{
		{"our close", "/", "{}", `assert(client:close(websocket.CLOSE_CODES.GOING_AWAY, "bye"))`, 1001, "client", ""},
		{"our close default code", "/", "{}", `assert(client:close())`, 1000, "client", ""},
		{"peer close", "/close?code=4001&reason=server+bye", "{}", "", 4001, "server", "server bye"},
		{"peer close without code", "/close", "{}", "", 1005, "server", ""},
		{"protocol error: masked frame", "/masked", "{}", "", 1002, "client", "mask"},
		{"protocol error: reserved opcode", "/opcode", "{}", "", 1002, "client", "opcode"},
		{"invalid UTF-8", "/badutf8", "{}", "", 1007, "client", "UTF-8"},
		{"message too big", "/send?text=0123456789", "{max_message_size = 4}", "", 1009, "client", "message exceeds max_message_size (4 bytes)"},
		{"network drop", "/drop", "{}", "", 1006, "server", "connection lost"},
		{"network drop mid payload", "/drop?after=payload", "{}", "", 1006, "server", "connection lost"},
		{"network drop mid fragmented message", "/drop?after=fragment", "{}", "", 1006, "server", "connection lost"},
		{"length 2^63-1 in a header", "/oversize?huge=1", "{}", "", 1009, "client", "message exceeds max_message_size (16777216 bytes)"},
		{"length with the top bit set", "/oversize?n=9223372036854775808", "{}", "", 1002, "client", "most significant bit"},
		{"reserved bit without extension", "/rsv", "{}", "", 1002, "client", "reserved bits"},
		{"half-closed TCP", "/halfclose", "{}", "", 1006, "server", "connection lost"},
		{"read timeout", "/stall", "{read_timeout = 50}", "", 1006, "client", "read timeout"},
		{"pong timeout", "/stall", `{ping_interval = 20, pong_timeout = "50ms"}`, "", 1006, "client", "pong"},
		{"unanswered close", "/noclose", "{close_timeout = 100}", `assert(client:close(1000, "bye"))`, 1006, "client", "no close frame from the peer within the close timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.NewReplacer("URL", `WS .. "`+tt.path+`"`, "OPTS", tt.opts, "ACTION", tt.action).Replace(finalCloseScript)
			out := mustRunLua(t, s.URL(), src)
			var code int
			var reason string
			line := strings.TrimSuffix(out, "\n")
			parts := strings.SplitN(line, "\t", 3)
			require.Len(t, parts, 3, out)
			_, err := fmtSscan(parts[0], &code)
			require.NoError(t, err)
			reason = parts[2]
			t.Logf("%d %s %q", code, parts[1], reason)
			require.Equal(t, tt.code, code, "reason: %s", reason)
			require.Equal(t, tt.initiator, parts[1], "who started the close")
			require.Contains(t, reason, tt.reason)
		})
	}
}

// TestSendAfterTooBigNamesTheOption: a send after the connection failed
// with 1009 names max_message_size in its error, as the close message does.
func TestSendAfterTooBigNamesTheOption(t *testing.T) {
	s := newServer(t, nil)
	out := mustRunLua(t, s.URL(), `
		local client = assert(websocket.connect(WS .. "/send?text=0123456789", {max_message_size = 4}))
		local m = client:receive():receive()
		assert(m.code == 1009, m.code)
		print(client:send("x"))
	`)
	require.Equal(t, "false\twebsocket: connection closed (1009 message exceeds max_message_size (4 bytes))\n", out)
}
