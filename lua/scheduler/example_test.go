package scheduler_test

import (
	"context"
	"fmt"

	lua "github.com/yuin/gopher-lua"

	"github.com/wslua/wslua/lua/scheduler"
)

// Run drives the main chunk and every spawned coroutine; blocking calls
// park only the calling coroutine.
func ExampleRun() {
	L := lua.NewState()
	defer L.Close()
	fn, err := L.LoadString(`
		local results = channel.new()
		for i = 1, 3 do
			coroutine.spawn(function(n)
				time.sleep(n * 20)
				results:send("worker " .. n .. " done")
			end, i)
		end
		for i = 1, 3 do
			local msg, ok = results:receive()
			print(msg, ok)
		end
		local r = channel.select{ results:case_receive(), time.after("5ms"):case_receive() }
		print(r.channel == results and "unexpected result" or "timed out")
	`)
	if err != nil {
		panic(err)
	}
	err = scheduler.Run(context.Background(), L, fn)
	fmt.Println("err:", err)
	// Output:
	// worker 1 done	true
	// worker 2 done	true
	// worker 3 done	true
	// timed out
	// err: <nil>
}

// A Go module feeds a channel from a goroutine (with backpressure) and
// performs blocking work with Await.
func ExampleNewChannel() {
	L := lua.NewState()
	defer L.Close()
	L.SetGlobal("numbers", L.NewFunction(func(L *lua.LState) int {
		n := L.CheckInt(1)
		ch := scheduler.NewChannel(L, 0, func(L *lua.LState, v any) lua.LValue {
			t := L.NewTable()
			t.RawSetString("n", lua.LNumber(v.(int)))
			return t
		})
		go func() {
			defer ch.CloseGo()
			for i := 1; i <= n; i++ {
				if ch.SendGo(context.Background(), i) != nil {
					return
				}
			}
		}()
		L.Push(ch.LValue())
		return 1
	}))
	L.SetGlobal("square", L.NewFunction(func(L *lua.LState) int {
		x := L.CheckInt(1)
		return scheduler.Await(L,
			func(ctx context.Context) any { return x * x }, // runs on its own goroutine
			func(L *lua.LState, r any) int { L.Push(lua.LNumber(r.(int))); return 1 })
	}))
	err := scheduler.RunString(context.Background(), L, `
		local ch = numbers(3)
		while true do
			local msg, ok = ch:receive()
			if not ok then break end
			print(msg.n, square(msg.n))
		end
	`)
	fmt.Println("err:", err)
	// Output:
	// 1	1
	// 2	4
	// 3	9
	// err: <nil>
}
