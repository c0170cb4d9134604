package interop

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/handshake"
	"github.com/wslua/wslua/protocol"
	"github.com/wslua/wslua/testserver"
)

// The load check of the issue: loadConns concurrent client connections from
// this process to our testserver on loopback, each echoing loadMessages
// messages. TestLoad1000 asserts integrity and order (never time);
// BenchmarkLoad1000 reports the memory per connection. Under the race
// detector the tests use raceLoadConns connections (see race_test.go): the
// full 1,000 run in a normal `go test` and in the benchmarks.
const (
	loadConns    = 1000
	loadMessages = 100
	// loadDialers bounds the dials in flight, so the listener's accept
	// queue never overflows.
	loadDialers = 64
)

// childServerEnv makes the test binary run a testserver instead of the
// tests (see runChildServer): the benchmarks measure the client's memory
// alone with the server in another process.
const childServerEnv = "WSLUA_INTEROP_CHILD_SERVER"

// runChildServer serves a testserver on 127.0.0.1, prints its URL on stdout
// and runs until stdin ends.
func runChildServer() int {
	srv := testserver.New(nil)
	fmt.Println(srv.URL())
	_, _ = io.Copy(io.Discard, os.Stdin)
	srv.Close()
	return 0
}

// startChildServer starts this test binary as a testserver process and
// returns its ws:// URL; the process ends with the test.
func startChildServer(tb testing.TB) string {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childServerEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	require.NoError(tb, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(tb, err)
	require.NoError(tb, cmd.Start())
	tb.Cleanup(func() {
		_ = stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(tb, err, "child server URL")
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	return strings.TrimSpace(line)
}

// connsForLimit returns how many connections the file-descriptor limit
// allows (fdsPerConn descriptors each, plus slack), at most want.
func connsForLimit(tb testing.TB, want, fdsPerConn int) int {
	const slack = 256
	allowed := want
	if openFiles > 0 && int(openFiles) < want*fdsPerConn+slack {
		allowed = max(1, (int(openFiles)-slack)/fdsPerConn)
		tb.Logf("file-descriptor limit %d allows only %d of %d connections", openFiles, allowed, want)
	}
	return allowed
}

// loadMessage returns message j of connection i: its type alternates, its
// size varies across the 125/126 boundary up to about 1 KiB, and its
// content names the connection and the message, so a message delivered to
// the wrong connection or out of order is detected.
func loadMessage(i, j int) (protocol.MessageType, []byte) {
	typ := protocol.MessageText
	if j%2 == 1 {
		typ = protocol.MessageBinary
	}
	head := fmt.Sprintf("conn %d msg %d ", i, j)
	size := len(head) + (i*31+j*97)%1000
	p := make([]byte, size)
	copy(p, head)
	for k := len(head); k < size; k++ {
		p[k] = byte('a' + (i+j+k)%26)
	}
	return typ, p
}

// heapStats is a garbage-collected snapshot of the heap.
type heapStats struct{ alloc, inuse uint64 }

func readHeap() heapStats {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return heapStats{alloc: ms.HeapAlloc, inuse: ms.HeapInuse + ms.StackInuse}
}

// loadResult is the outcome of one load run.
type loadResult struct {
	conns, echoed int
	before, open  heapStats // before dialing; with every connection open
	elapsed       time.Duration
	phases        []time.Duration // dial, echo, close (Go load only)
}

// perConn returns the heap growth per open connection.
func (r loadResult) perConn() (alloc, inuse float64) {
	return float64(int64(r.open.alloc)-int64(r.before.alloc)) / float64(r.conns),
		float64(int64(r.open.inuse)-int64(r.before.inuse)) / float64(r.conns)
}

// runGoLoad opens n connections to url's /echo, and has each echo
// loadMessages messages, pipelined: a writer goroutine sends them all while
// the connection's reader checks that each one comes back intact and in
// order. The heap is measured once every connection has echoed everything
// and all are still open; then all are closed with the closing handshake.
func runGoLoad(url string, n int) (loadResult, error) {
	res := loadResult{conns: n}
	res.before = readHeap()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	conns := make([]*protocol.Conn, n)
	defer func() {
		for _, c := range conns {
			if c != nil {
				_ = c.CloseNow()
			}
		}
	}()
	if err := parallel(n, loadDialers, func(i int) error {
		c, _, err := handshake.Dial(ctx, url+"/echo", nil)
		conns[i] = c
		return err
	}); err != nil {
		return res, fmt.Errorf("dial: %w", err)
	}
	res.phases = append(res.phases, time.Since(start))

	var mu sync.Mutex
	if err := parallel(n, n, func(i int) error {
		c := conns[i]
		werr := make(chan error, 1)
		go func() {
			for j := range loadMessages {
				typ, p := loadMessage(i, j)
				if err := c.Write(ctx, typ, p); err != nil {
					werr <- fmt.Errorf("conn %d: write %d: %w", i, j, err)
					return
				}
			}
			werr <- nil
		}()
		var buf []byte
		for j := range loadMessages {
			typ, got, err := c.ReadAppend(ctx, buf[:0])
			if err != nil {
				_ = c.CloseNow()
				<-werr
				return fmt.Errorf("conn %d: read %d: %w", i, j, err)
			}
			buf = got
			wantTyp, want := loadMessage(i, j)
			if typ != wantTyp || string(got) != string(want) {
				_ = c.CloseNow()
				<-werr
				return fmt.Errorf("conn %d: message %d: got %s %.40q..., want %s %.40q...", i, j, typ, got, wantTyp, want)
			}
			mu.Lock()
			res.echoed++
			mu.Unlock()
		}
		return <-werr
	}); err != nil {
		return res, err
	}

	res.phases = append(res.phases, time.Since(start))
	res.open = readHeap()

	err := parallel(n, loadDialers, func(i int) error {
		c := conns[i]
		if err := c.Close(protocol.StatusNormalClosure, "load done"); err != nil {
			return fmt.Errorf("conn %d: close: %w", i, err)
		}
		_, _, err := c.Read(ctx)
		if protocol.CloseStatus(err) != protocol.StatusNormalClosure {
			return fmt.Errorf("conn %d: close reply: %w", i, err)
		}
		return nil
	})
	res.elapsed = time.Since(start)
	res.phases = append(res.phases, res.elapsed)
	return res, err
}

// parallel runs fn(0..n-1) with at most width calls at a time and returns
// the first error (all calls run regardless).
func parallel(n, width int, fn func(i int) error) error {
	sem := make(chan struct{}, width)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := fn(i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return first
}

// testLoadConns is the connection count of the load tests: 1,000, or
// raceLoadConns under the race detector.
func testLoadConns(tb testing.TB, fdsPerConn int) int {
	want := loadConns
	if raceEnabled {
		want = raceLoadConns
		tb.Logf("race detector: %d connections instead of %d (the benchmark and a run without -race use %d)", want, loadConns, loadConns)
	}
	return connsForLimit(tb, want, fdsPerConn)
}

// TestLoad1000 checks that 1,000 concurrent connections to the testserver
// each get their 100 messages back intact and in order.
func TestLoad1000(t *testing.T) {
	if testing.Short() {
		t.Skip("load test skipped with -short")
	}
	srv := testserver.New(nil)
	defer srv.Close()
	n := testLoadConns(t, 2) // client and server ends are in this process
	res, err := runGoLoad(srv.URL(), n)
	require.NoError(t, err)
	require.Equal(t, n*loadMessages, res.echoed, "messages echoed intact and in order")
	alloc, inuse := res.perConn()
	t.Logf("phases (cumulative): dialed %v, echoed %v, closed %v", res.phases[0], res.phases[1], res.phases[2])
	t.Logf("%d connections × %d messages in %v; heap %.0f B/conn (client and server in this process), in use %.0f B/conn",
		n, loadMessages, res.elapsed.Round(time.Millisecond), alloc, inuse)
}

// BenchmarkLoad1000 runs the load of TestLoad1000 with 1,000 connections
// and reports the heap growth per open connection (B/conn) and the heap
// and stack in use per connection (inuse-B/conn), measured with every
// connection open after its echoes. server=child runs the testserver in a
// child process, so the figures are the client's alone; server=inproc has
// both ends in this process.
func BenchmarkLoad1000(b *testing.B) { benchLoad(b, runGoLoad) }

// benchLoad runs a load (run: n connections from one process against url)
// against a child-process and an in-process server, with the metrics of
// BenchmarkLoad1000.
func benchLoad(b *testing.B, run func(url string, n int) (loadResult, error)) {
	for _, mode := range []string{"child", "inproc"} {
		b.Run("server="+mode, func(b *testing.B) {
			var url string
			fds := 1
			if mode == "child" {
				url = startChildServer(b)
			} else {
				srv := testserver.New(nil)
				b.Cleanup(srv.Close)
				url = srv.URL()
				fds = 2
			}
			n := connsForLimit(b, loadConns, fds)
			var alloc, inuse float64
			for b.Loop() {
				res, err := run(url, n)
				if err != nil {
					b.Fatal(err)
				}
				if res.echoed != n*loadMessages {
					b.Fatalf("echoed %d messages, want %d", res.echoed, n*loadMessages)
				}
				a, u := res.perConn()
				alloc += a
				inuse += u
			}
			b.ReportMetric(alloc/float64(b.N), "B/conn")
			b.ReportMetric(inuse/float64(b.N), "inuse-B/conn")
			b.ReportMetric(float64(n*loadMessages), "msgs/op")
		})
	}
}
