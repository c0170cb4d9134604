package interop

import (
	"fmt"
	"os"
	"syscall"
	"testing"

	"go.uber.org/goleak"
)

// wantOpenFiles is the file-descriptor limit the load tests need: 1,000
// client connections plus, with the server in this process, 1,000 server
// connections, and some slack.
const wantOpenFiles = 4096

func TestMain(m *testing.M) {
	if os.Getenv(childServerEnv) == "1" {
		os.Exit(runChildServer())
	}
	raiseFileLimit()
	goleak.VerifyTestMain(m)
}

// openFiles is the soft file-descriptor limit after raiseFileLimit.
var openFiles uint64

// raiseFileLimit raises the soft limit on open files towards wantOpenFiles
// (as far as the hard limit allows); the load tests read openFiles and
// scale down, saying so, if it is still too low.
func raiseFileLimit() {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		fmt.Fprintln(os.Stderr, "interop: getrlimit:", err)
		return
	}
	if lim.Cur < wantOpenFiles {
		want := lim
		want.Cur = min(uint64(wantOpenFiles), lim.Max)
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err == nil {
			lim = want
		}
	}
	openFiles = lim.Cur
}
