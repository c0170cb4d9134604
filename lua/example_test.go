package lua_test

import (
	"context"
	"fmt"
	"time"

	"github.com/wslua/wslua/lua"
	"github.com/wslua/wslua/lua/scheduler"
	"github.com/wslua/wslua/testserver"
	glua "github.com/yuin/gopher-lua"
)

// A Go program embedding the module: a state with the limits wslua uses,
// the websocket module installed, and a script run under the scheduler
// (which installs coroutine.spawn, channel and time itself), bounded by a
// context.
func ExampleOpen() {
	srv := testserver.New(nil) // an echo server on 127.0.0.1
	defer srv.Close()

	L := lua.NewState()
	defer L.Close()
	lua.Open(L)
	L.SetGlobal("URL", glua.LString(srv.URL()))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := scheduler.RunString(ctx, L, `
		local client = assert(websocket.connect(URL))
		assert(client:send("hello"))
		print(client:read("5s").data)
		client:close()
		local m = client:read("5s")
		print(m.type, m.code, m.initiator)
		print(client:read())
	`)
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// hello
	// close	1000	client
	// nil	closed
}
