package lua

import (
	"testing"

	"github.com/stretchr/testify/require"
	glua "github.com/yuin/gopher-lua"

	"github.com/wslua/wslua/protocol"
)

func TestParseCompression(t *testing.T) {
	tests := []struct {
		lua  string
		want *protocol.CompressionOptions
		err  string
	}{
		{lua: `false`, want: nil},
		{lua: `true`, want: &protocol.CompressionOptions{}},
		{lua: `{}`, want: &protocol.CompressionOptions{}},
		{lua: `{level = 6, threshold = 64}`, want: &protocol.CompressionOptions{Level: 6, Threshold: 64}},
		{lua: `{threshold = 0}`, want: &protocol.CompressionOptions{Threshold: -1}},
		{lua: `{context_takeover = false}`, want: &protocol.CompressionOptions{ClientNoContextTakeover: true, ServerNoContextTakeover: true}},
		{lua: `{context_takeover = true, window_bits = 10}`, want: &protocol.CompressionOptions{ClientMaxWindowBits: 10, ServerMaxWindowBits: 10}},
		{lua: `"yes"`, err: "invalid option compression: boolean or table expected, got string"},
		{lua: `{level = 10}`, err: "compression.level"},
		{lua: `{level = 1.5}`, err: "compression.level"},
		{lua: `{window_bits = 7}`, err: "compression.window_bits"},
		{lua: `{window_bits = 16}`, err: "compression.window_bits"},
		{lua: `{threshold = -1}`, err: "compression.threshold"},
		{lua: `{context_takeover = "no"}`, err: "compression.context_takeover: boolean expected"},
		{lua: `{speed = 1}`, err: "compression.speed: unknown option"},
		{lua: `{[1] = true}`, err: "keys must be strings"},
	}
	for _, tt := range tests {
		t.Run(tt.lua, func(t *testing.T) {
			L := glua.NewState()
			defer L.Close()
			require.NoError(t, L.DoString("return "+tt.lua))
			got, err := parseCompression(L.Get(-1))
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

// TestCompressionEndToEnd: with compression = {...} the client negotiates
// permessage-deflate with the test server, client:extensions() reports it,
// and messages of every size (below and above the threshold) echo intact.
func TestCompressionEndToEnd(t *testing.T) {
	s := newServer(t, nil)
	out := mustRunLua(t, s.URL(), `
		local client = assert(websocket.connect(WS .. "/", {compression = {level = 6, threshold = 16, context_takeover = false}}))
		local ext = client:extensions()
		print(ext.name, ext.client_no_context_takeover, ext.server_no_context_takeover)
		local ch = client:receive()
		local big = string.rep("websocket compression ", 5000)
		for _, m in ipairs({"short", big, "", big .. "!"}) do
			assert(client:send(m))
			local msg = ch:receive()
			print(msg.type, #msg.data, msg.data == m)
		end
		local plain = assert(websocket.connect(WS .. "/"))
		print(plain:extensions())
		plain:close()
		client:close()
	`)
	require.Equal(t, "permessage-deflate\ttrue\ttrue\n"+
		"text\t5\ttrue\ntext\t110000\ttrue\ntext\t0\ttrue\ntext\t110001\ttrue\n"+
		"nil\n", out)
}
