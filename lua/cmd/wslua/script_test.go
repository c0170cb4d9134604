package main

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Syntax errors read as lua(1)'s, "name:line: message", for scripts, -e
// chunks and standard input (issue 10, item 8); gopher-lua's own form was
// "name line:4(column:3) near 'end': syntax error".
func TestSyntaxErrorsLikeLua(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		stdin string // with the "-" script
		args  []string
		want  string // the whole of stderr; SCRIPT stands for the script's path
	}{
		{name: "extra end", src: "local x = 1\nif x then\n  print(x)\nend end\n",
			want: "wslua: SCRIPT:4: syntax error near 'end'\n"},
		{name: "missing end", src: "if true then\n  print(1)\n",
			want: "wslua: SCRIPT:3: syntax error near '<eof>'\n"},
		{name: "compile error", src: "print(1)\nbreak\n",
			want: "wslua: SCRIPT:2: no loop to break\n"},
		{name: "shebang keeps line numbers", src: "#!/usr/bin/env wslua\nprint(1\n",
			want: "wslua: SCRIPT:3: syntax error near '<eof>'\n"},
		{name: "-e chunk", args: []string{"-e", "x = = 1"},
			want: "wslua: (command line):1: syntax error near '='\n"},
		{name: "stdin", args: []string{"-"}, stdin: "print(1)\nlocal = 2\n",
			want: "wslua: stdin:2: syntax error near '='\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args, script := tt.args, ""
			if tt.src != "" {
				script = writeScript(t, tt.src)
				args = []string{script}
			}
			code, out, errOut := runCmdIn(t, tt.stdin, args...)
			require.Equal(t, exitFailure, code)
			require.Empty(t, out)
			require.Equal(t, strings.ReplaceAll(tt.want, "SCRIPT", script), errOut)
		})
	}
}

// Runtime errors in -e chunks and standard input name their chunk as lua(1)
// does.
func TestRuntimeErrorChunkNames(t *testing.T) {
	code, _, errOut := runCmd(t, "-e", "local x = nil\nerror('boom')")
	require.Equal(t, exitFailure, code)
	require.Contains(t, errOut, "(command line):2: boom")
	code, _, errOut = runCmdIn(t, "\n\nerror('from stdin')", "-")
	require.Equal(t, exitFailure, code)
	require.Contains(t, errOut, "stdin:3: from stdin")
}

// "wslua - args" runs the script read from standard input (issue 10).
func TestStdinScript(t *testing.T) {
	code, out, errOut := runCmdIn(t, "#!/usr/bin/env wslua\nprint(arg[0], select('#', ...), ...)\n", "-", "a", "b c")
	require.Equal(t, exitOK, code, errOut)
	require.Equal(t, "-\t2\ta\tb c\n", out)

	code, out, errOut = runCmdIn(t, "", "-")
	require.Equal(t, exitOK, code, errOut)
	require.Empty(t, out, "an empty script does nothing")
}

// "wslua -e chunk" runs strings, in order, before the optional script, in
// the same state (issue 10).
func TestExecuteChunks(t *testing.T) {
	code, out, errOut := runCmd(t, "-e", "a = 1", "-e", "print(a + 1)")
	require.Equal(t, exitOK, code, errOut)
	require.Equal(t, "2\n", out)

	p := writeScript(t, "print(greeting, ...)")
	code, out, errOut = runCmd(t, "-e", "greeting = 'hi'", p, "x")
	require.Equal(t, exitOK, code, errOut)
	require.Equal(t, "hi\tx\n", out)

	code, out, errOut = runCmdIn(t, "print(n * 2)", "-e", "n = 21", "-")
	require.Equal(t, exitOK, code, errOut)
	require.Equal(t, "42\n", out)

	// -e chunks run under the scheduler: they may block and spawn.
	code, out, errOut = runCmd(t, "--serve", "-e", `
		coroutine.spawn(function() time.sleep(10) print("spawned") end)
		local c = assert(websocket.connect(WS_URL))
		assert(c:send("from -e"))
		print(c:receive():receive().data)
		c:close()`)
	require.Equal(t, exitOK, code, errOut)
	require.Equal(t, "from -e\nspawned\n", out)

	code, _, errOut = runCmd(t, "-e")
	require.Equal(t, exitUsage, code)
	require.Contains(t, errOut, "-e needs a Lua chunk")
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// The first interrupt cancels and, if the command is still busy, says what
// it waits for; the second exits at once with 130 (issue 10, item 7).
func TestWatchInterrupts(t *testing.T) {
	sigs := make(chan os.Signal, 2)
	cancelled := make(chan struct{})
	done := make(chan struct{})
	exited := make(chan int, 1)
	var stderr lockedBuffer
	go watchInterrupts(sigs, func() { close(cancelled) }, done, &stderr, "waiting for X", func(code int) { exited <- code })

	sigs <- syscall.SIGINT
	select {
	case <-cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("the first signal did not cancel")
	}
	require.Eventually(t, func() bool { return stderr.String() == "waiting for X\n" }, 10*time.Second, 10*time.Millisecond)
	sigs <- syscall.SIGTERM
	select {
	case code := <-exited:
		require.Equal(t, exitInterrupted, code)
	case <-time.After(10 * time.Second):
		t.Fatal("the second signal did not exit")
	}
	require.Equal(t, "waiting for X\nwslua: interrupted again: quitting\n", stderr.String())
	close(done)

	// A command that ends quickly after the first signal prints no notice.
	sigs2 := make(chan os.Signal, 2)
	done2 := make(chan struct{})
	ended := make(chan struct{})
	var stderr2 lockedBuffer
	go func() {
		defer close(ended)
		watchInterrupts(sigs2, func() { close(done2) }, done2, &stderr2, "waiting for X", func(int) { t.Error("exit called") })
	}()
	sigs2 <- syscall.SIGINT
	<-ended
	require.Empty(t, stderr2.String())
}
