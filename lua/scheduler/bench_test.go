package scheduler_test

import (
	"context"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/wslua/wslua/lua/scheduler"
)

func benchScript(b *testing.B, code string) {
	b.Helper()
	L := lua.NewState()
	defer L.Close()
	L.SetGlobal("N", lua.LNumber(b.N))
	fn, err := L.LoadString(code)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	if err := scheduler.Run(context.Background(), L, fn); err != nil {
		b.Fatal(err)
	}
}

// One op = one round trip between two coroutines over unbuffered channels
// (two blocking sends, two blocking receives, two resumes).
func BenchmarkPingPong(b *testing.B) {
	benchScript(b, `
		local ping, pong = channel.new(), channel.new()
		coroutine.spawn(function()
			for i = 1, N do local v = ping:receive() pong:send(v) end
		end)
		for i = 1, N do ping:send(i) pong:receive() end`)
}

// One op = a send and a receive on a buffered channel that never block.
func BenchmarkBufferedNoBlock(b *testing.B) {
	benchScript(b, `
		local ch = channel.new(1)
		for i = 1, N do ch:send(i) ch:receive() end`)
}

// One op = coroutine.yield in one of two coroutines.
func BenchmarkYield(b *testing.B) {
	benchScript(b, `
		coroutine.spawn(function() for i = 1, N / 2 do coroutine.yield() end end)
		for i = 1, N / 2 do coroutine.yield() end`)
}

// One op = spawning a coroutine that finishes at once.
func BenchmarkSpawn(b *testing.B) {
	benchScript(b, `
		local f = function() end
		for i = 1, N do coroutine.spawn(f) if i % 64 == 0 then coroutine.yield() end end`)
}

// One op = a select over two channels that blocks, then completes.
func BenchmarkSelect(b *testing.B) {
	benchScript(b, `
		local a, b, done = channel.new(), channel.new(), channel.new()
		coroutine.spawn(function() for i = 1, N do if i % 2 == 0 then a:send(i) else b:send(i) end end end)
		for i = 1, N do channel.select{ a:case_receive(), b:case_receive() } end`)
}

// One op = a value sent with SendGo from a goroutine and received in Lua.
func BenchmarkSendGo(b *testing.B) {
	L := lua.NewState()
	defer L.Close()
	L.SetGlobal("N", lua.LNumber(b.N))
	L.SetGlobal("feed", L.NewFunction(func(L *lua.LState) int {
		ch := scheduler.NewChannel(L, 64, func(L *lua.LState, v any) lua.LValue { return lua.LNumber(v.(int)) })
		go func() {
			defer ch.CloseGo()
			for i := 0; i < b.N; i++ {
				if ch.SendGo(context.Background(), i) != nil {
					return
				}
			}
		}()
		L.Push(ch.LValue())
		return 1
	}))
	b.ReportAllocs()
	b.ResetTimer()
	err := scheduler.RunString(context.Background(), L, `
		local ch = feed()
		while true do local v, ok = ch:receive() if not ok then break end end`)
	if err != nil {
		b.Fatal(err)
	}
}
