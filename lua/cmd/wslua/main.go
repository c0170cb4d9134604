// Command wslua runs a Lua script with gopher-lua's standard libraries, the
// websocket module and the coroutine scheduler (coroutine.spawn, channel,
// time.sleep, time.after).
//
// Usage:
//
//	wslua [--serve] [--cpuprofile file] script.lua [args...]
//
// The script's arguments are in the global table arg (arg[0] is the script,
// arg[1]... the arguments) and in the chunk's varargs (...). With --serve,
// an embedded test server (package testserver: echo at /, scripted paths
// such as /drop or /close) listens on 127.0.0.1 and its base URL,
// "ws://127.0.0.1:PORT/", is exported as the environment variable WS_URL and
// the global WS_URL before the script runs. Scripts read it with
//
//	local url = os.getenv("WS_URL") or "ws://127.0.0.1:9001/"
//
// --cpuprofile writes a CPU profile of the run for go tool pprof. wslua
// runs with GOMAXPROCS=1 unless the GOMAXPROCS environment variable is set
// (see setProcs).
//
// wslua exits with status 0 when the script and every coroutine it spawned
// finished, 1 with the error and its Lua traceback on stderr when the
// script failed, 2 on a usage error, and 130 when interrupted (SIGINT or
// SIGTERM cancel the script's context: connections are closed with 1001).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"

	glua "github.com/yuin/gopher-lua"

	"github.com/wslua/wslua/lua"
	"github.com/wslua/wslua/lua/luajson"
	"github.com/wslua/wslua/lua/scheduler"
	"github.com/wslua/wslua/testserver"
)

// Exit statuses.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitInterrupted = 130
)

const usage = `usage: wslua [--serve] [--cpuprofile file] script.lua [args...]

  --serve             start the embedded test server on 127.0.0.1 and export
                      its ws:// URL as WS_URL (environment variable and global)
  --cpuprofile file   write a CPU profile of the run to file (go tool pprof)

wslua runs Go with GOMAXPROCS=1 (the Lua VM is single-threaded; this avoids
thread wake-ups between it and the network goroutines) unless the GOMAXPROCS
environment variable says otherwise.
`

func main() {
	setProcs()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// setProcs sets GOMAXPROCS to 1 unless the environment variable sets it.
// One Lua VM runs on one goroutine, and the connections' reader goroutines
// hand it their messages: with one P those hand-overs stay on one thread,
// no other thread is woken to spin for work at each of them. That made
// 16-byte round trips about 1.5 times faster, and 64 KiB echoes faster too
// (bench/RESULTS.md, rows lua and lua-gomaxprocsN).
func setProcs() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
}

// run is the whole command, minus the process: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	serve := false
	cpuProfile := ""
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		a := args[0]
		args = args[1:]
		switch a {
		case "--serve", "-serve":
			serve = true
		case "--cpuprofile", "-cpuprofile":
			if len(args) == 0 {
				fmt.Fprintf(stderr, "wslua: %s needs a file name\n%s", a, usage)
				return exitUsage
			}
			cpuProfile, args = args[0], args[1:]
		case "-h", "-help", "--help":
			fmt.Fprint(stdout, usage)
			return exitOK
		case "--":
			goto done
		default:
			fmt.Fprintf(stderr, "wslua: unknown flag %s\n%s", a, usage)
			return exitUsage
		}
	}
done:
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	script, scriptArgs := args[0], args[1:]
	if cpuProfile != "" {
		stopProfile, err := startCPUProfile(cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "wslua: %v\n", err)
			return exitFailure
		}
		defer stopProfile()
	}

	L := lua.NewState()
	defer L.Close()
	lua.Open(L)
	luajson.Open(L)
	scheduler.Install(L)
	setPrint(L, stdout)
	setArgs(L, script, scriptArgs)

	if serve {
		srv := testserver.New(nil)
		defer srv.Close()
		url := srv.URL() + "/"
		prev, had := os.LookupEnv("WS_URL")
		if err := os.Setenv("WS_URL", url); err != nil {
			fmt.Fprintf(stderr, "wslua: %v\n", err)
			return exitFailure
		}
		defer func() {
			if had {
				os.Setenv("WS_URL", prev)
			} else {
				os.Unsetenv("WS_URL")
			}
		}()
		L.SetGlobal("WS_URL", glua.LString(url))
	}

	chunk, err := L.LoadFile(script)
	if err != nil {
		fmt.Fprintf(stderr, "wslua: %v\n", err)
		return exitFailure
	}
	err = scheduler.Run(ctx, L, withArgs(L, chunk, scriptArgs))
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		fmt.Fprintln(stderr, "wslua: interrupted")
		return exitInterrupted
	default:
		fmt.Fprintf(stderr, "wslua: %v\n", err)
		return exitFailure
	}
}

// startCPUProfile starts writing a CPU profile to path; the returned
// function stops it and closes the file.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// setArgs sets the global arg table: arg[0] the script, arg[1..n] its
// arguments, arg[-1] the interpreter (as the standalone lua does).
func setArgs(L *glua.LState, script string, args []string) {
	t := L.NewTable()
	t.RawSetInt(-1, glua.LString("wslua"))
	t.RawSetInt(0, glua.LString(script))
	for i, a := range args {
		t.RawSetInt(i+1, glua.LString(a))
	}
	t.RawSetString("n", glua.LNumber(len(args)))
	L.SetGlobal("arg", t)
}

// withArgs returns a main function that calls chunk with the script
// arguments as its varargs.
func withArgs(L *glua.LState, chunk *glua.LFunction, args []string) *glua.LFunction {
	if len(args) == 0 {
		return chunk
	}
	argTable := L.NewTable()
	for _, a := range args {
		argTable.Append(glua.LString(a))
	}
	factory, err := L.LoadString(`local main, args = ...; return function() return main(unpack(args, 1, #args)) end`)
	if err != nil {
		return chunk // cannot happen: the source is constant
	}
	if err := L.CallByParam(glua.P{Fn: factory, NRet: 1, Protect: true}, chunk, argTable); err != nil {
		return chunk
	}
	fn, ok := L.Get(-1).(*glua.LFunction)
	L.Pop(1)
	if !ok {
		return chunk
	}
	return fn
}

// setPrint makes print write to w (formatted like Lua's print).
func setPrint(L *glua.LState, w io.Writer) {
	L.SetGlobal("print", L.NewFunction(func(L *glua.LState) int {
		n := L.GetTop()
		var b strings.Builder
		for i := 1; i <= n; i++ {
			if i > 1 {
				b.WriteByte('\t')
			}
			b.WriteString(L.ToStringMeta(L.Get(i)).String())
		}
		b.WriteByte('\n')
		io.WriteString(w, b.String())
		return 0
	}))
}
