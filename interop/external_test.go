package interop

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// systemPython is the interpreter that sees Debian's python3-websockets; the
// python3 first on PATH may be a pyenv build without Debian's packages.
const systemPython = "/usr/bin/python3"

// underCI reports whether the CI environment variable is set: a missing
// peer then fails the test instead of skipping it.
func underCI() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v != "" && v != "false" && v != "0"
}

// missingPeer skips the test, or fails it under CI.
func missingPeer(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if underCI() {
		t.Fatalf("interop peer unavailable under CI: %s (run interop/ci.sh to install it)", msg)
	}
	t.Skipf("interop peer unavailable: %s (run interop/ci.sh to install it; with CI set this fails)", msg)
}

// startExternal starts a contract server process (cmd, already configured)
// that prints its port on the first line of stdout and then close reports
// as JSON lines, and stops it at the end of the test.
func startExternal(t *testing.T, name string, cmd *exec.Cmd) *target {
	t.Helper()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr // read only after Wait
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s server: %v", name, err)
	}

	log := newCloseLog()
	port := make(chan int, 1)
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		sc := bufio.NewScanner(stdout)
		first := true
		for sc.Scan() {
			line := sc.Text()
			if first {
				first = false
				n, err := strconv.Atoi(strings.TrimSpace(line))
				if err != nil {
					n = -1
				}
				port <- n
				continue
			}
			var rep closeReport
			if json.Unmarshal([]byte(line), &rep) == nil {
				log.add(rep)
			}
		}
		if first {
			port <- -1
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()

	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		_ = stdin.Close() // the server exits when stdin ends
		exited := make(chan error, 1)
		go func() { <-readerDone; exited <- cmd.Wait() }()
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	t.Cleanup(stop)

	var p int
	select {
	case p = <-port:
	case <-time.After(30 * time.Second):
		p = -1
	}
	if p <= 0 {
		stop()
		t.Fatalf("%s server did not print its port; stderr:\n%s", name, stderr.String())
	}
	return &target{name: name, kind: kindContract, base: "ws://127.0.0.1:" + strconv.Itoa(p), customPing: true, closes: log}
}

// newNodeTarget starts interop/node/server.js (Node's ws package).
func newNodeTarget(t *testing.T) *target {
	node, err := exec.LookPath("node")
	if err != nil {
		missingPeer(t, "node is not installed: %v", err)
	}
	dir, err := filepath.Abs("node")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "ws", "package.json")); err != nil {
		missingPeer(t, "the ws package is not installed in interop/node (npm ci): %v", err)
	}
	cmd := exec.Command(node, "server.js")
	cmd.Dir = dir
	return startExternal(t, "node-ws", cmd)
}

// newPythonTarget starts interop/python/server.py (python3-websockets).
func newPythonTarget(t *testing.T) *target {
	if _, err := os.Stat(systemPython); err != nil {
		missingPeer(t, "%s is not installed: %v", systemPython, err)
	}
	out, err := exec.Command(systemPython, "-c", "import websockets; print(websockets.__version__)").CombinedOutput()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			missingPeer(t, "python3-websockets is not importable by %s: %s", systemPython, strings.TrimSpace(string(out)))
		}
		t.Fatalf("run %s: %v", systemPython, err)
	}
	t.Logf("python websockets %s", strings.TrimSpace(string(out)))
	dir, err := filepath.Abs("python")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(systemPython, "-u", "server.py")
	cmd.Dir = dir
	return startExternal(t, "python-websockets", cmd)
}
