package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) == "1" {
		main() // the test binary re-executed as wslua (see wslua in proc_test.go)
		return
	}
	goleak.VerifyTestMain(m)
}

// runCmd runs the command in-process and returns its exit status, stdout and
// stderr.
func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return runCmdIn(t, "", args...)
}

// runCmdIn is runCmd with stdin as the command's standard input.
func runCmdIn(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, args, stdio{strings.NewReader(stdin), &stdout, &stderr})
	return code, stdout.String(), stderr.String()
}

// writeScript writes a Lua script into a temporary directory.
func writeScript(t *testing.T, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "script.lua")
	require.NoError(t, os.WriteFile(p, []byte(src), 0o600))
	return p
}

func TestArgsAndServe(t *testing.T) {
	p := writeScript(t, `
		print(select("#", ...), ...)
		print(arg[-1], arg[0] == SCRIPT, arg[1], arg[2], arg.n)
		print(WS_URL == os.getenv("WS_URL"), WS_URL:match("^ws://127%.0%.0%.1:%d+/$") ~= nil)
		local c = assert(websocket.connect(WS_URL))
		assert(c:send("via --serve"))
		print(c:receive():receive().data)
		assert(c:close())
	`)
	src, err := os.ReadFile(p)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(p, []byte(`SCRIPT = "`+p+`"`+"\n"+string(src)), 0o600))
	code, out, errOut := runCmd(t, "--serve", p, "a", "b c")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "2\ta\tb c\nwslua\ttrue\ta\tb c\t2\ntrue\ttrue\nvia --serve\n", out)
	_, set := os.LookupEnv("WS_URL")
	require.False(t, set, "WS_URL must be restored after run")
}

func TestScriptFailure(t *testing.T) {
	p := writeScript(t, "local function f()\n  error(\"boom\")\nend\nf()\n")
	code, _, errOut := runCmd(t, p)
	require.Equal(t, exitFailure, code)
	require.Contains(t, errOut, "boom")
	require.Contains(t, errOut, "stack traceback")
	require.Contains(t, errOut, "script.lua:2")
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{nil, exitUsage, "usage: wslua"},
		{[]string{"--serve"}, exitUsage, "usage: wslua"},
		{[]string{"--bogus", "x.lua"}, exitUsage, "unknown flag --bogus"},
		{[]string{"/no/such/script.lua"}, exitFailure, "no such file"},
		{[]string{"--help"}, exitOK, ""},
		{[]string{"--cpuprofile"}, exitUsage, "--cpuprofile needs a file name"},
		{[]string{"--cpuprofile", "/no/such/dir/cpu.out", "x.lua"}, exitFailure, "cpu profile"},
	}
	for _, tt := range tests {
		code, out, errOut := runCmd(t, tt.args...)
		require.Equal(t, tt.code, code, "%v: %s", tt.args, errOut)
		require.Contains(t, errOut, tt.want)
		if tt.code == exitOK {
			require.Contains(t, out, "usage: wslua")
		}
	}
	p := writeScript(t, "syntax error here")
	code, _, errOut := runCmd(t, p)
	require.Equal(t, exitFailure, code)
	require.Contains(t, errOut, "script.lua")
}

// wslua runs with one P unless GOMAXPROCS is set.
func TestSetProcs(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	runtime.GOMAXPROCS(2)
	t.Setenv("GOMAXPROCS", "2")
	setProcs()
	require.Equal(t, 2, runtime.GOMAXPROCS(0), "an explicit GOMAXPROCS is kept")
	t.Setenv("GOMAXPROCS", "")
	setProcs()
	require.Equal(t, 1, runtime.GOMAXPROCS(0))
}

// --cpuprofile writes a profile that pprof can read (gzip'd protobuf).
func TestCPUProfile(t *testing.T) {
	p := writeScript(t, `local s = 0 for i = 1, 100000 do s = s + i end print(s)`)
	prof := filepath.Join(t.TempDir(), "cpu.out")
	code, out, errOut := runCmd(t, "--cpuprofile", prof, p)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "5000050000\n", out)
	b, err := os.ReadFile(prof)
	require.NoError(t, err)
	require.Greater(t, len(b), 2)
	require.Equal(t, []byte{0x1f, 0x8b}, b[:2], "a gzip'd profile")
}

// TestInterrupt: cancelling the context (what SIGINT does) stops a script
// blocked on a connection, with status 130.
func TestInterrupt(t *testing.T) {
	p := writeScript(t, `
		local c = assert(websocket.connect(WS_URL))
		print("ready")
		c:receive():receive()
	`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout := &notifyWriter{ready: make(chan struct{})}
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"--serve", p}, stdio{strings.NewReader(""), stdout, &stderr}) }()
	select {
	case <-stdout.ready:
	case <-time.After(30 * time.Second):
		t.Fatal("script did not start")
	}
	cancel()
	require.Equal(t, exitInterrupted, <-done)
	require.Equal(t, "wslua: interrupted\n", stderr.String())
}

// notifyWriter closes ready at its first write.
type notifyWriter struct {
	once  sync.Once
	ready chan struct{}
}

func (w *notifyWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.ready) })
	return len(p), nil
}
