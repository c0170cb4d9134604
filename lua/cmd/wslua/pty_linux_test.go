//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// terminal is a pseudo-terminal whose slave side is a wslua process's
// controlling terminal: the test types on the master side and reads what
// the process writes, as a person at a terminal would.
type terminal struct {
	master *os.File
	cmd    *exec.Cmd

	mu   sync.Mutex
	out  strings.Builder
	more chan struct{} // closed and replaced at each read
	done chan struct{} // closed when reading the master ends
}

// ioctl calls ioctl(2) with a pointer argument.
func ioctl(f *os.File, req uintptr, arg unsafe.Pointer) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, req, uintptr(arg))
	}); err != nil {
		return err
	}
	if errno != 0 {
		return errno
	}
	return nil
}

// startInTerminal starts cmd with a new pseudo-terminal as its standard
// streams and controlling terminal. It skips the test when the system has
// no /dev/ptmx.
func startInTerminal(t *testing.T, cmd *exec.Cmd) *terminal {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	var unlock int32
	require.NoError(t, ioctl(master, syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)), "unlockpt")
	var n uint32
	require.NoError(t, ioctl(master, syscall.TIOCGPTN, unsafe.Pointer(&n)), "ptsname")
	slave, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	require.NoError(t, err)
	defer slave.Close() // the child has its own copies

	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	require.NoError(t, cmd.Start())
	term := &terminal{master: master, cmd: cmd, more: make(chan struct{}), done: make(chan struct{})}
	go term.read()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = master.Close()
		<-term.done
	})
	return term
}

// read copies the master side into out until it fails (EIO once the
// process and every copy of the slave are gone).
func (term *terminal) read() {
	defer close(term.done)
	buf := make([]byte, 4096)
	for {
		n, err := term.master.Read(buf)
		term.mu.Lock()
		term.out.Write(buf[:n])
		close(term.more)
		term.more = make(chan struct{})
		term.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// output returns what the process wrote so far, and what the terminal
// echoed, with the terminal's "\r\n" line endings as "\n".
func (term *terminal) output() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return strings.ReplaceAll(term.out.String(), "\r\n", "\n")
}

// waitFor waits (at most 20 s) for the output to contain s.
func (term *terminal) waitFor(t *testing.T, s string) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		term.mu.Lock()
		more := term.more
		term.mu.Unlock()
		if strings.Contains(term.output(), s) {
			return
		}
		select {
		case <-more:
		case <-deadline:
			t.Fatalf("the terminal did not show %q; it shows:\n%s", s, term.output())
		}
	}
}

// typeIn types s on the terminal ("\x04" is Ctrl-D, "\x03" Ctrl-C).
func (term *terminal) typeIn(t *testing.T, s string) {
	t.Helper()
	_, err := term.master.WriteString(s)
	require.NoError(t, err)
}

// isTerminal tells a terminal from a pipe, a file and /dev/null (a
// character device that is no terminal).
func TestIsTerminal(t *testing.T) {
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	defer master.Close()
	require.True(t, isTerminal(master))
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	defer w.Close()
	require.False(t, isTerminal(r))
	null, err := os.Open(os.DevNull)
	require.NoError(t, err)
	defer null.Close()
	require.False(t, isTerminal(null))
	require.False(t, isTerminal(strings.NewReader("")))
}
