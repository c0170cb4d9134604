package lua

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEchoRoundTrip(t *testing.T) {
	s := newServer(t, nil)
	out := mustRunLua(t, s.URL(), `
		local client, err = websocket.connect(WS .. "/")
		assert(client, err)
		assert(type(client) == "userdata")
		print(tostring(client))
		local ch = client:receive()
		assert(ch == client:receive(), "receive must return the same channel")
		assert(client:send("hello"))
		assert(client:send("\0\1\2", websocket.TYPE_BINARY))
		local m = ch:receive()
		print(m.type, m.data)
		m = ch:receive()
		print(m.type, #m.data)
		assert(client:close(websocket.CLOSE_CODES.NORMAL, "Goodbye"))
		m = ch:receive()
		print(m.type, m.code, m.reason, m.data)
		local v, ok = ch:receive()
		print(v, ok)
		print(tostring(client))
	`)
	require.Equal(t, "websocket.client(ws://"+s.Addr()+"/, open)\n"+
		"text\thello\n"+
		"binary\t3\n"+
		"close\t1000\t\t\n"+ // the echo server answers with the code only
		"nil\tfalse\n"+
		"websocket.client(ws://"+s.Addr()+"/, closed)\n", out)
}
