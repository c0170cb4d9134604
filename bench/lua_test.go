//go:build !wsbench_noours

package bench

import (
	"context"
	"strconv"
	"testing"

	glua "github.com/yuin/gopher-lua"

	"github.com/wslua/wslua/bench/internal/echo"
	"github.com/wslua/wslua/lua"
	"github.com/wslua/wslua/lua/scheduler"
)

// BenchmarkLuaInProcess runs the bench/lua scripts inside the test process
// (as cmd/wslua does: gopher-lua, the websocket module and the scheduler)
// against our in-process echo server, b.N iterations plus the script's
// 10% warm-up, so that -cpuprofile sees the Lua path. The comparable
// figures are the Script* ones that run.sh measures across processes.
func BenchmarkLuaInProcess(b *testing.B) {
	if !hasOurs() {
		b.Skip("ours is not benchmarked")
	}
	for _, loop := range []string{"roundtrip16", "echo64k"} {
		b.Run("loop="+loop, func(b *testing.B) {
			url := server(b, echo.Ours).URL(echo.EchoPath)
			// A short warm-up run first, then the measured run without
			// the script's own warm-up.
			runLuaScript(b, "lua/"+loop+".lua", url, 100, -1)
			b.ReportAllocs()
			b.ResetTimer()
			runLuaScript(b, "lua/"+loop+".lua", url, b.N, 0)
		})
	}
}

// runLuaScript runs script with arguments url, n and warm (unless
// negative) in a fresh Lua state, as cmd/wslua would.
func runLuaScript(b *testing.B, script, url string, n, warm int) {
	b.Helper()
	L := glua.NewState()
	defer L.Close()
	lua.Open(L)
	scheduler.Install(L)
	L.SetGlobal("print", L.NewFunction(func(*glua.LState) int { return 0 }))
	args := L.NewTable()
	args.RawSetInt(0, glua.LString(script))
	args.RawSetInt(1, glua.LString(url))
	args.RawSetInt(2, glua.LString(strconv.Itoa(n)))
	if warm >= 0 {
		args.RawSetInt(3, glua.LString(strconv.Itoa(warm)))
	}
	L.SetGlobal("arg", args)
	chunk, err := L.LoadFile(script)
	if err != nil {
		b.Fatal(err)
	}
	if err := scheduler.Run(context.Background(), L, chunk); err != nil {
		b.Fatal(err)
	}
}
