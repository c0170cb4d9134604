//go:build !wsbench_noours

package bench

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"testing"

	glua "github.com/yuin/gopher-lua"

	"github.com/wslua/wslua/bench/internal/echo"
	"github.com/wslua/wslua/lua"
	"github.com/wslua/wslua/lua/scheduler"
	"github.com/wslua/wslua/testserver"
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

// BenchmarkLuaHeld runs bench/lua/hold.lua in this process (lua.NewState,
// as cmd/wslua builds its state): 1,000 connections (LUAHELD_CONNS
// overrides), each owned by a coroutine blocked in ch:receive(), against an
// echoserver process (server=child: the figures are the client's alone) or
// our echo server in this process (server=inproc: both ends). It reports
// the Go memory per connection once all are held: live heap (heap-B/conn),
// goroutine stacks (stack-B/conn), their sum (B/conn) and goroutines per
// connection. The script then has every connection echo once and close,
// and fails unless all do. WSBENCH_HEAPPROFILES=DIR saves a heap profile
// taken with every connection held.
func BenchmarkLuaHeld(b *testing.B) {
	if !hasOurs() {
		b.Skip("ours is not benchmarked")
	}
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("LUAHELD_CONNS")); err == nil && v > 0 {
		n = v
	}
	for _, mode := range []string{"child", "inproc"} {
		b.Run("server="+mode, func(b *testing.B) {
			var url string
			if mode == "child" {
				e := startExternal(b, echo.Ours)
				defer e.stop()
				url = e.URL(echo.EchoPath)
			} else {
				srv := testserver.New(nil) // what wslua --serve embeds
				defer srv.Close()
				url = srv.URL() + "/"
			}
			var heap, stack, gor float64
			for range b.N {
				h, s, g := runHeld(b, url, n, mode)
				heap += h
				stack += s
				gor += g
			}
			k := float64(b.N)
			b.ReportMetric(heap/k, "heap-B/conn")
			b.ReportMetric(stack/k, "stack-B/conn")
			b.ReportMetric((heap+stack)/k, "B/conn")
			b.ReportMetric(gor/k, "goroutines/conn")
		})
	}
}

// runHeld runs hold.lua once with n held connections and returns the Go
// memory and goroutines per held connection.
func runHeld(b *testing.B, url string, n int, mode string) (heap, stack, goroutines float64) {
	b.Helper()
	if os.Getenv("WSBENCH_HEAPPROFILES") != "" {
		runtime.MemProfileRate = 1 // exact profiles
	}
	L := lua.NewState()
	defer L.Close()
	lua.Open(L)
	scheduler.Install(L)
	L.SetGlobal("print", L.NewFunction(func(*glua.LState) int { return 0 }))
	args := L.NewTable()
	args.RawSetInt(0, glua.LString("lua/hold.lua"))
	args.RawSetInt(1, glua.LString(strconv.Itoa(n)))
	args.RawSetInt(2, glua.LString(url))
	L.SetGlobal("arg", args)
	var ms0 runtime.MemStats
	var g0 int
	L.SetGlobal("measure", L.NewFunction(func(L *glua.LState) int {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		held := L.CheckInt(1) // connections opened since the first call
		if held == 0 {
			ms0, g0 = ms, runtime.NumGoroutine()
			return 0
		}
		k := float64(held)
		heap = float64(int64(ms.HeapAlloc)-int64(ms0.HeapAlloc)) / k
		stack = float64(int64(ms.StackInuse)-int64(ms0.StackInuse)) / k
		goroutines = float64(runtime.NumGoroutine()-g0) / k
		if dir := os.Getenv("WSBENCH_HEAPPROFILES"); dir != "" {
			f, err := os.Create(filepath.Join(dir, "lua-held-"+mode+".pprof"))
			if err == nil {
				_ = pprof.Lookup("heap").WriteTo(f, 0)
				f.Close()
			}
		}
		return 0
	}))
	chunk, err := L.LoadFile("lua/hold.lua")
	if err != nil {
		b.Fatal(err)
	}
	if err := scheduler.Run(context.Background(), L, chunk); err != nil {
		b.Fatal(err)
	}
	return heap, stack, goroutines
}
