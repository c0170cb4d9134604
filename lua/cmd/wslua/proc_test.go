package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// mainEnv makes the test binary run main instead of the tests, so that
// tests can run wslua as a process (signals, exit statuses, terminals)
// without building it.
const mainEnv = "WSLUA_TEST_MAIN"

// wslua returns a command running wslua with args: the test binary, or the
// binary named by $WSLUA_BIN (to run these tests against another build).
func wslua(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	if b := os.Getenv("WSLUA_BIN"); b != "" {
		exe = b
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), mainEnv+"=1")
	return cmd
}

// lines collects the lines read from r and lets a test wait for one.
type lines struct {
	mu    sync.Mutex
	all   []string
	added chan struct{} // closed and replaced at each new line
	done  chan struct{} // closed at EOF
}

func readLines(r io.Reader) *lines {
	l := &lines{added: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			l.mu.Lock()
			l.all = append(l.all, sc.Text())
			close(l.added)
			l.added = make(chan struct{})
			l.mu.Unlock()
		}
	}()
	return l
}

// waitFor waits (at most d) for a line containing s and returns it.
func (l *lines) waitFor(t *testing.T, s string, d time.Duration) string {
	t.Helper()
	deadline := time.After(d)
	for {
		l.mu.Lock()
		for _, line := range l.all {
			if strings.Contains(line, s) {
				l.mu.Unlock()
				return line
			}
		}
		added := l.added
		l.mu.Unlock()
		select {
		case <-added:
		case <-deadline:
			t.Fatalf("no line containing %q within %v; got %q", s, d, l.text())
		}
	}
}

// text returns the lines read so far.
func (l *lines) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.all, "\n")
}

// waitExit waits (at most d) for cmd to end and returns its exit status.
func waitExit(t *testing.T, cmd *exec.Cmd, d time.Duration) int {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- cmd.Wait() }()
	select {
	case err := <-errc:
		if err == nil {
			return 0
		}
		ee, ok := err.(*exec.ExitError)
		require.True(t, ok, "wait: %v", err)
		return ee.ExitCode()
	case <-time.After(d):
		_ = cmd.Process.Kill()
		<-errc
		t.Fatalf("wslua did not exit within %v", d)
		return -1
	}
}

// On Ctrl-C while the peer never answers the close, wslua says on stderr
// what it waits for, and a second Ctrl-C quits at once with 130 (issue 10,
// item 7). Before, it waited close_timeout (5 s) silently and ignored the
// second signal.
func TestSecondInterruptQuits(t *testing.T) {
	p := writeScript(t, `
		local c = assert(websocket.connect(WS_URL .. "noclose", {close_timeout = "1m"}))
		print("ready")
		c:receive():receive()
	`)
	for _, second := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		cmd := wslua(t, "--serve", p)
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		stderr, err := cmd.StderrPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		out, errs := readLines(stdout), readLines(stderr)
		out.waitFor(t, "ready", 20*time.Second)

		require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
		notice := errs.waitFor(t, "closing connections", 10*time.Second)
		require.Contains(t, notice, "close reply")
		require.Contains(t, notice, "Ctrl-C again to quit")
		start := time.Now()
		require.NoError(t, cmd.Process.Signal(second))
		require.Equal(t, exitInterrupted, waitExit(t, cmd, 10*time.Second))
		require.Less(t, time.Since(start), 10*time.Second, "much less than the close timeout (1m)")
		<-errs.done
		require.Contains(t, errs.text(), "wslua: interrupted again: quitting")
	}
}

// One interrupt with a peer that answers ends the script at once, saying
// only "interrupted".
func TestInterruptAnsweredQuietly(t *testing.T) {
	p := writeScript(t, `
		local c = assert(websocket.connect(WS_URL))
		print("ready")
		c:receive():receive()
	`)
	cmd := wslua(t, "--serve", p)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	readLines(stdout).waitFor(t, "ready", 20*time.Second)
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	require.Equal(t, exitInterrupted, waitExit(t, cmd, 10*time.Second))
	// The notice appears only if closing took more than noticeDelay (a
	// loaded machine).
	require.Regexp(t, `^(wslua: interrupted: closing connections .*\n)?wslua: interrupted\n$`, stderr.String())
}
