package bench

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/wslua/wslua/bench/internal/echo"
)

// The servers run in this process, next to the clients, with the default
// GOMAXPROCS (the machine's 2 cores): a client and its server then share the
// Go scheduler the same way for every implementation. WSBENCH_EXTERNAL=1
// moves them to echoserver processes instead, to compare the two setups.
// run.sh prints GOMAXPROCS with the results. ConnAtRest always uses a server
// process, to tell the client's memory from the server's.

// echoServer is a running echo server, in this process or another.
type echoServer interface {
	// URL returns the ws:// URL of path on the server.
	URL(path string) string
	// Close stops the server.
	Close() error
}

var (
	serversMu sync.Mutex
	servers   = map[string]echoServer{}
)

// server returns the running echo server of impl, starting it on first use:
// in this process, or as an echoserver process if WSBENCH_EXTERNAL=1 (to
// compare the two setups).
func server(tb testing.TB, impl string) echoServer {
	tb.Helper()
	serversMu.Lock()
	defer serversMu.Unlock()
	if s, ok := servers[impl]; ok {
		return s
	}
	var s echoServer
	if os.Getenv("WSBENCH_EXTERNAL") == "1" {
		s = startExternal(tb, impl)
	} else {
		es, err := echo.Start(impl, "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		s = es
	}
	servers[impl] = s
	return s
}

// closeServers stops every server started by server.
func closeServers() error {
	serversMu.Lock()
	defer serversMu.Unlock()
	var first error
	for impl, s := range servers {
		if err := s.Close(); err != nil && first == nil {
			first = fmt.Errorf("%s: %w", impl, err)
		}
		delete(servers, impl)
	}
	return first
}

func TestMain(m *testing.M) {
	code := m.Run()
	if err := closeServers(); err != nil {
		fmt.Fprintln(os.Stderr, "closing servers:", err)
		code = 1
	}
	stopExternal()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goroutine leak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// impls returns the implementations to benchmark, in echo.Impls order: all,
// or those listed in WSBENCH_IMPLS (comma-separated), which is how run.sh
// leaves ours out while the main module does not build.
func impls() []string {
	v := os.Getenv("WSBENCH_IMPLS")
	if v == "" {
		return echo.Impls
	}
	want := strings.Split(v, ",")
	var out []string
	for _, impl := range echo.Impls {
		if slices.Contains(want, impl) {
			out = append(out, impl)
		}
	}
	return out
}

// hasOurs reports whether ours is among the implementations benchmarked.
func hasOurs() bool { return slices.Contains(impls(), echo.Ours) }

// procs is recorded in the benchmark log so that run.sh can report it.
var procs = runtime.GOMAXPROCS(0)
