package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/wslua/wslua/bench/internal/clients"
	"github.com/wslua/wslua/bench/internal/echo"
)

// The memory-at-rest benchmark runs the server in its own process
// (cmd/echoserver), so that the client's Go memory is measured in this
// process and the server's in that one. The binary is built once per test
// run, or taken from WSBENCH_ECHOSERVER.

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
	buildDir  string
)

// echoserverBinary returns the path of the echoserver command.
func echoserverBinary(b testing.TB) string {
	b.Helper()
	if p := os.Getenv("WSBENCH_ECHOSERVER"); p != "" {
		return p
	}
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "wsbench")
		if buildErr != nil {
			return
		}
		buildPath = filepath.Join(buildDir, "echoserver")
		args := []string{"build", "-o", buildPath}
		if !echo.OursBuilt {
			args = append(args, "-tags", "wsbench_noours")
		}
		out, err := exec.Command("go", append(args, "./cmd/echoserver")...).CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("building echoserver: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		b.Fatal(buildErr)
	}
	return buildPath
}

// stopExternal removes the echoserver built by echoserverBinary.
func stopExternal() {
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
}

// external is a running echoserver process.
type external struct {
	cmd   *exec.Cmd
	url   string // ws:// base URL
	stats string // stats URL
}

// startExternal starts an echoserver process for impl.
func startExternal(b testing.TB, impl string) *external {
	b.Helper()
	args := []string{"-impl", impl, "-addr", "127.0.0.1:0", "-stats", "127.0.0.1:0"}
	if os.Getenv("WSBENCH_HEAPPROFILES") != "" {
		args = append(args, "-memprofilerate", "1") // exact profiles
	}
	cmd := exec.Command(echoserverBinary(b), args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	e := &external{cmd: cmd}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		e.stop()
		b.Fatalf("echoserver: %v", err)
	}
	f := strings.Fields(line)
	if len(f) != 2 || !strings.HasPrefix(f[1], "stats=") {
		e.stop()
		b.Fatalf("echoserver said %q", line)
	}
	e.url, e.stats = f[0], strings.TrimPrefix(f[1], "stats=")
	return e
}

// stop ends the process.
func (e *external) stop() {
	_ = e.cmd.Process.Signal(os.Interrupt)
	_ = e.cmd.Wait()
}

// URL returns the ws:// URL of path on the server.
func (e *external) URL(path string) string { return e.url + path }

// Close ends the process.
func (e *external) Close() error {
	e.stop()
	return nil
}

// serverStats is the echoserver's memory report.
type serverStats struct {
	Heap       uint64 `json:"heap"`
	Stack      uint64 `json:"stack"`
	Goroutines int    `json:"goroutines"`
}

// memory fetches the server's memory report.
func (e *external) memory(b *testing.B) serverStats {
	b.Helper()
	resp, err := http.Get(e.stats)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var s serverStats
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		b.Fatal(err)
	}
	return s
}

// saveProfile saves one of the server's pprof profiles to file.
func (e *external) saveProfile(b *testing.B, profile, file string) {
	b.Helper()
	resp, err := http.Get(strings.TrimSuffix(e.stats, "/stats") + "/debug/pprof/" + profile)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	f, err := os.Create(file)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkConnAtRest measures the Go memory (live heap + goroutine stacks)
// a connection holds at rest on each end, once it has done one 16-byte round
// trip: client-B/conn in this process, server-B/conn in the echoserver
// process. An op is opening one connection (TCP connect, opening handshake)
// and that first round trip, so ns/op is the connection setup cost. Kernel
// socket memory is in neither figure. Run it with -benchtime=1000x: the
// memory is averaged over the b.N connections. WSBENCH_HEAPPROFILES=DIR
// saves each server's heap profile at that point, for pprof.
func BenchmarkConnAtRest(b *testing.B) {
	forImpls(b, func(b *testing.B, impl string) {
		e := startExternal(b, impl)
		defer e.stop()
		url := e.url + echo.EchoPath
		cs := make([]clients.Client, 0, b.N)
		defer func() {
			for _, c := range cs {
				_ = c.Close()
			}
		}()
		s0 := e.memory(b)
		g0 := runtime.NumGoroutine()
		m0 := liveBytes()
		b.ResetTimer()
		for range b.N {
			c, err := clients.Dial(impl, url)
			if err != nil {
				b.Fatal(err)
			}
			cs = append(cs, c)
			if err := c.RoundTrips(1, true, text16); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		m1 := liveBytes()
		g1 := runtime.NumGoroutine()
		s1 := e.memory(b)
		if dir := os.Getenv("WSBENCH_HEAPPROFILES"); dir != "" {
			e.saveProfile(b, "heap?gc=1", filepath.Join(dir, "server-heap-"+impl+".pprof"))
		}
		n := float64(b.N)
		b.ReportMetric(float64(int64(m1)-int64(m0))/n, "client-B/conn")
		b.ReportMetric(float64(int64(s1.Heap+s1.Stack)-int64(s0.Heap+s0.Stack))/n, "server-B/conn")
		b.ReportMetric(float64(int64(s1.Stack)-int64(s0.Stack))/n, "server-stackB/conn")
		b.ReportMetric(float64(g1-g0)/n, "client-goroutines/conn")
		b.ReportMetric(float64(s1.Goroutines-s0.Goroutines)/n, "server-goroutines/conn")
	})
}
