// Command wslua runs a Lua script with gopher-lua's standard libraries, the
// websocket module and the coroutine scheduler (coroutine.spawn, channel,
// time.sleep, time.after); it also talks to a WebSocket server by hand
// (wslua connect) and serves the scripted test server (wslua serve).
//
// Usage:
//
//	wslua [--serve] [--cpuprofile file] [-e chunk]... [script.lua | -] [args...]
//	wslua connect [flags] URL
//	wslua serve [--addr host:port] [--tls] [--cert-out file]
//	wslua --version | --help
//
// The script's arguments are in the global table arg (arg[0] is the script,
// arg[1]... the arguments) and in the chunk's varargs (...). A script named
// "-" is read from standard input; each -e chunk is run, in order, before
// the script (as lua(1) does). With --serve, an embedded test server
// (package testserver: echo at /, scripted paths such as /drop or /close)
// listens on 127.0.0.1 and its base URL, "ws://127.0.0.1:PORT/", is
// exported as the environment variable WS_URL and the global WS_URL before
// the script runs. Scripts read it with
//
//	local url = os.getenv("WS_URL") or "ws://127.0.0.1:9001/"
//
// --cpuprofile writes a CPU profile of the run for go tool pprof. wslua
// runs with GOMAXPROCS=1 unless the GOMAXPROCS environment variable is set
// (see setProcs).
//
// Syntax errors are reported as lua(1) does, "script.lua:4: syntax error
// near 'end'", the form editors jump to.
//
// wslua exits with status 0 when the script and every coroutine it spawned
// finished, 1 with the error and its Lua traceback on stderr when the
// script failed, 2 on a usage error, and 130 when interrupted: the first
// SIGINT or SIGTERM cancels the script's context (connections are closed
// with 1001, each waiting at most its close_timeout for the peer's reply,
// which wslua announces on stderr), a second one exits at once.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"

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

const usage = `usage: wslua [--serve] [--cpuprofile file] [-e chunk]... [script.lua | -] [args...]
       wslua connect [flags] URL        talk to a WebSocket server by hand
       wslua serve [flags]              run the scripted test server
       wslua --version | --help

  --serve             start the embedded test server on 127.0.0.1 and export
                      its ws:// URL as WS_URL (environment variable and global)
  --cpuprofile file   write a CPU profile of the run to file (go tool pprof)
  -e chunk            run the Lua chunk (repeatable, in order, before the script)
  -                   read the script from standard input
  --version           print the version of wslua and of Go
  -h, --help          print this help ("wslua connect --help", "wslua serve
                      --help" for theirs)

wslua runs Go with GOMAXPROCS=1 (the Lua VM is single-threaded; this avoids
thread wake-ups between it and the network goroutines) unless the GOMAXPROCS
environment variable says otherwise.
`

// scriptNotice is printed on stderr when an interrupted script is still
// closing its connections.
const scriptNotice = "wslua: interrupted: closing connections (waiting up to 5s, or the script's close_timeout, for the peer's close reply); Ctrl-C again to quit"

// stdio are the command's standard streams.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

func main() {
	setProcs()
	os.Exit(runWithSignals(os.Args[1:], stdio{os.Stdin, os.Stdout, os.Stderr}, os.Exit))
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

// run is the whole command, minus the process and its signals: it returns
// the exit status. Cancelling ctx is what the first SIGINT does.
func run(ctx context.Context, args []string, sio stdio) int {
	if len(args) > 0 {
		switch args[0] {
		case "connect":
			return runConnect(ctx, args[1:], sio)
		case "serve":
			return runServe(ctx, args[1:], sio)
		}
	}
	return runScript(ctx, args, sio)
}

// chunk is one piece of Lua source to run: an -e string, standard input or
// a file.
type chunk struct {
	name   string // chunk name in messages: "(command line)", "stdin" or the path
	source []byte // nil: read from the file name (or stdin for "-") when loading
	file   string // "" for -e chunks
}

// scriptArgs is the parsed command line of a script run.
type scriptArgs struct {
	serve      bool
	cpuProfile string
	chunks     []chunk // -e chunks, then the script if any
	script     string  // the script as given ("-" for stdin), "" if none
	args       []string
}

// parseScriptArgs parses the command line of a script run. It returns the
// exit status and true when the command is done (help, version, errors).
func parseScriptArgs(args []string, sio stdio) (scriptArgs, int, bool) {
	var sa scriptArgs
	usageErr := func(format string, a ...any) (scriptArgs, int, bool) {
		fmt.Fprintf(sio.err, "wslua: "+format+"\n%s", append(a, usage)...)
		return sa, exitUsage, true
	}
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && args[0] != "-" {
		a := args[0]
		args = args[1:]
		switch a {
		case "--serve", "-serve":
			sa.serve = true
		case "--cpuprofile", "-cpuprofile":
			if len(args) == 0 {
				return usageErr("%s needs a file name", a)
			}
			sa.cpuProfile, args = args[0], args[1:]
		case "-e":
			if len(args) == 0 {
				return usageErr("-e needs a Lua chunk")
			}
			sa.chunks = append(sa.chunks, chunk{name: "(command line)", source: []byte(args[0])})
			args = args[1:]
		case "-h", "-help", "--help":
			fmt.Fprint(sio.out, usage)
			return sa, exitOK, true
		case "-v", "-version", "--version":
			fmt.Fprintln(sio.out, versionLine())
			return sa, exitOK, true
		case "--":
			goto done
		default:
			return usageErr("unknown flag %s", a)
		}
	}
done:
	if len(args) == 0 {
		if len(sa.chunks) > 0 {
			return sa, 0, false
		}
		fmt.Fprint(sio.err, usage)
		return sa, exitUsage, true
	}
	sa.script, sa.args = args[0], args[1:]
	if sa.script == "-" {
		sa.chunks = append(sa.chunks, chunk{name: "stdin", file: "-"})
	} else {
		sa.chunks = append(sa.chunks, chunk{name: sa.script, file: sa.script})
	}
	return sa, 0, false
}

// runScript runs -e chunks and a script.
func runScript(ctx context.Context, args []string, sio stdio) int {
	sa, code, done := parseScriptArgs(args, sio)
	if done {
		return code
	}
	if sa.cpuProfile != "" {
		stopProfile, err := startCPUProfile(sa.cpuProfile)
		if err != nil {
			fmt.Fprintf(sio.err, "wslua: %v\n", err)
			return exitFailure
		}
		defer stopProfile()
	}

	L := newState(sio.in, sio.out)
	defer L.Close()
	if sa.script != "" {
		setArgs(L, sa.script, sa.args)
	}

	if sa.serve {
		srv := testserver.New(nil)
		defer srv.Close()
		url := srv.URL() + "/"
		prev, had := os.LookupEnv("WS_URL")
		if err := os.Setenv("WS_URL", url); err != nil {
			fmt.Fprintf(sio.err, "wslua: %v\n", err)
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

	fns := make([]*glua.LFunction, 0, len(sa.chunks))
	for _, c := range sa.chunks {
		fn, err := loadChunk(L, c, sio.in)
		if err != nil {
			fmt.Fprintf(sio.err, "wslua: %v\n", err)
			return exitFailure
		}
		fns = append(fns, fn)
	}
	main := sequence(L, fns, sa.args)
	err := scheduler.Run(ctx, L, main)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		fmt.Fprintln(sio.err, "wslua: interrupted")
		return exitInterrupted
	default:
		fmt.Fprintf(sio.err, "wslua: %v\n", err)
		return exitFailure
	}
}

// newState returns the Lua state scripts run in: the standard libraries,
// the websocket module, the scheduler's coroutine.spawn, channel and time,
// a print writing to out, and loaders with lua(1)'s syntax errors (reading
// in for loadfile() and dofile()).
func newState(in io.Reader, out io.Writer) *glua.LState {
	L := lua.NewState()
	lua.Open(L)
	luajson.Open(L)
	scheduler.Install(L)
	setPrint(L, out)
	installLoaders(L, in)
	return L
}

// loadChunk compiles c, reading its file (stdin for "-") if it has one.
// Errors are one line in lua(1)'s form: "name:line: message".
func loadChunk(L *glua.LState, c chunk, stdin io.Reader) (*glua.LFunction, error) {
	src := c.source
	if c.file != "" {
		var err error
		if c.file == "-" {
			src, err = io.ReadAll(stdin)
		} else {
			src, err = os.ReadFile(c.file)
		}
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, fmt.Errorf("cannot read %s: %w", c.name, err)
		}
		src = skipShebang(src)
	}
	fn, err := L.Load(bytes.NewReader(src), c.name)
	if err != nil {
		return nil, syntaxError(err, c.name, src)
	}
	return fn, nil
}

// skipShebang blanks a first line starting with '#' ("#!/usr/bin/env
// wslua"), keeping its newline so that line numbers stay right.
func skipShebang(src []byte) []byte {
	if len(src) == 0 || src[0] != '#' {
		return src
	}
	if i := bytes.IndexByte(src, '\n'); i >= 0 {
		return src[i:]
	}
	return nil
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

// sequence returns a main function that calls fns in order, the last one
// (the script) with args as its varargs. The -e chunks run without
// arguments, as in lua(1).
func sequence(L *glua.LState, fns []*glua.LFunction, args []string) *glua.LFunction {
	if len(fns) == 1 && len(args) == 0 {
		return fns[0]
	}
	fnTable := L.NewTable()
	for _, fn := range fns {
		fnTable.Append(fn)
	}
	argTable := L.NewTable()
	for _, a := range args {
		argTable.Append(glua.LString(a))
	}
	factory, err := L.LoadString(`local fns, args = ...
		return function()
			for i = 1, #fns - 1 do fns[i]() end
			return fns[#fns](unpack(args, 1, #args))
		end`)
	if err != nil {
		panic("wslua: " + err.Error()) // cannot happen: the source is constant
	}
	if err := L.CallByParam(glua.P{Fn: factory, NRet: 1, Protect: true}, fnTable, argTable); err != nil {
		panic("wslua: " + err.Error()) // cannot happen: the factory does not fail
	}
	fn := L.Get(-1).(*glua.LFunction)
	L.Pop(1)
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
