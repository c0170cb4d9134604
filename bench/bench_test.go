package bench

import (
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/wslua/wslua/bench/internal/clients"
	"github.com/wslua/wslua/bench/internal/echo"
)

// Message sizes.
const (
	size16  = 16
	size64K = 64 << 10
	size1M  = 1 << 20
	size16M = 16 << 20
)

// conns1000 is the number of connections of BenchmarkConns1000.
const conns1000 = 1000

// text16 is the payload of the small round trips.
var text16 = []byte("0123456789abcdef")

// binary returns n pseudo-random bytes, the same for every call.
func binary(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	p := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			p[i+j] = byte(v >> (8 * j))
		}
	}
	for i := n &^ 7; i < n; i++ {
		p[i] = byte(r.Uint32())
	}
	return p
}

// textUTF8 returns n bytes of valid UTF-8 text mixing ASCII with 2-, 3- and
// 4-byte sequences.
func textUTF8(n int) []byte {
	const unit = "Grüße, κόσμε! こんにちは 🙂 plain ASCII words follow here. "
	s := strings.Repeat(unit, n/len(unit)+1)
	s = s[:n]
	for len(s) > 0 && !isRuneStart(s, len(s)) {
		s = s[:len(s)-1]
	}
	return []byte(s + strings.Repeat(" ", n-len(s)))
}

// textASCII returns n bytes of ASCII text.
func textASCII(n int) []byte {
	const unit = "The quick brown fox jumps over the lazy dog; 0123456789.\n"
	return []byte(strings.Repeat(unit, n/len(unit)+1)[:n])
}

// isRuneStart reports whether s[:i] ends on a rune boundary.
func isRuneStart(s string, i int) bool { return i == len(s) || s[i]&0xC0 != 0x80 }

// dial connects impl's client to path on srv's server, failing b on error.
func dial(b *testing.B, impl, srv, path string) clients.Client {
	b.Helper()
	c, err := clients.Dial(impl, server(b, srv).URL(path))
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// benchRoundTrips measures round trips of p between impl's client and srv's
// server: ns/op is one message there and back. B/op, allocs/op, the system
// calls (rsys/op, wsys/op) and the CPU time per op (cpu-ns/op) count both
// ends, which share the process.
func benchRoundTrips(b *testing.B, impl, srv string, text bool, p []byte) {
	c := dial(b, impl, srv, echo.EchoPath)
	defer c.Close()
	// One round trip first, so that buffers reach their steady size.
	if err := c.RoundTrips(1, text, p); err != nil {
		b.Fatal(err)
	}
	if len(p) >= 1024 {
		b.SetBytes(int64(len(p)))
	}
	b.ReportAllocs()
	b.ResetTimer()
	c0 := startCosts()
	err := c.RoundTrips(b.N, text, p)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	c0.report(b)
}

// forImpls runs f as a sub-benchmark impl=NAME for every implementation.
func forImpls(b *testing.B, f func(b *testing.B, impl string)) {
	for _, impl := range impls() {
		b.Run("impl="+impl, func(b *testing.B) { f(b, impl) })
	}
}

// forServers runs f as a sub-benchmark srv=NAME for every WebSocket server,
// for cross benchmarks with our client.
func forServers(b *testing.B, f func(b *testing.B, srv string)) {
	if !hasOurs() {
		b.Skip("ours is not benchmarked")
	}
	for _, srv := range impls() {
		if srv != echo.TCP {
			b.Run("srv="+srv, func(b *testing.B) { f(b, srv) })
		}
	}
}

// BenchmarkRoundTrip16 is target (a): 16-byte text messages sent and echoed
// one at a time on one connection.
func BenchmarkRoundTrip16(b *testing.B) {
	forImpls(b, func(b *testing.B, impl string) { benchRoundTrips(b, impl, impl, true, text16) })
}

// BenchmarkEcho64K is target (b): 64 KiB binary messages echoed one at a
// time. MB/s counts one direction.
func BenchmarkEcho64K(b *testing.B) {
	p := binary(size64K)
	forImpls(b, func(b *testing.B, impl string) { benchRoundTrips(b, impl, impl, false, p) })
}

// BenchmarkEcho1M echoes 1 MiB binary messages.
func BenchmarkEcho1M(b *testing.B) {
	p := binary(size1M)
	forImpls(b, func(b *testing.B, impl string) { benchRoundTrips(b, impl, impl, false, p) })
}

// BenchmarkEcho16M echoes 16 MiB binary messages.
func BenchmarkEcho16M(b *testing.B) {
	p := binary(size16M)
	forImpls(b, func(b *testing.B, impl string) { benchRoundTrips(b, impl, impl, false, p) })
}

// BenchmarkStream64K is target (c): 64 KiB binary messages sent one way,
// the client waiting for the server's ack after every echo.AckEvery of them.
// b.N is rounded up to a whole number of windows (at most 15 extra
// messages).
func BenchmarkStream64K(b *testing.B) {
	p := binary(size64K)
	forImpls(b, func(b *testing.B, impl string) {
		c := dial(b, impl, impl, echo.SinkPath)
		defer c.Close()
		if err := c.Stream(echo.AckEvery, p); err != nil {
			b.Fatal(err)
		}
		n := (b.N + echo.AckEvery - 1) / echo.AckEvery * echo.AckEvery
		b.SetBytes(int64(len(p)))
		b.ReportAllocs()
		b.ResetTimer()
		c0 := startCosts()
		err := c.Stream(n, p)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		c0.report(b)
	})
}

// BenchmarkCrossRoundTrip16 runs our client against every WebSocket server.
func BenchmarkCrossRoundTrip16(b *testing.B) {
	forServers(b, func(b *testing.B, srv string) { benchRoundTrips(b, echo.Ours, srv, true, text16) })
}

// BenchmarkCrossEcho64K runs our client against every WebSocket server.
func BenchmarkCrossEcho64K(b *testing.B) {
	p := binary(size64K)
	forServers(b, func(b *testing.B, srv string) { benchRoundTrips(b, echo.Ours, srv, false, p) })
}

// liveBytes returns the live heap plus the goroutine stacks in use, after
// two collections (the second empties sync.Pool victim caches).
func liveBytes() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc + ms.StackInuse
}

// BenchmarkConns1000 is target (e): 1,000 connections, each doing 16-byte
// text round trips on its own goroutine; ns/op is per message. It reports
// the total msgs/s and, measured once all connections have done a round
// trip and gone idle, the Go memory (live heap + goroutine stacks) per
// connection pair: client and server ends share the process. BenchmarkConnAtRest
// splits that figure between the two ends.
func BenchmarkConns1000(b *testing.B) {
	forImpls(b, func(b *testing.B, impl string) {
		srv := server(b, impl)
		cs := make([]clients.Client, conns1000)
		defer func() {
			for _, c := range cs {
				if c != nil {
					_ = c.Close()
				}
			}
		}()
		g0 := runtime.NumGoroutine()
		m0 := liveBytes()
		for i := range cs {
			c, err := clients.Dial(impl, srv.URL(echo.EchoPath))
			if err != nil {
				b.Fatal(err)
			}
			cs[i] = c
			if err := c.RoundTrips(1, true, text16); err != nil {
				b.Fatal(err)
			}
		}
		m1 := liveBytes()
		g1 := runtime.NumGoroutine()

		var wg sync.WaitGroup
		errs := make(chan error, len(cs))
		b.ReportAllocs()
		b.ResetTimer()
		c0 := startCosts()
		for i, c := range cs {
			n := b.N / len(cs)
			if i < b.N%len(cs) {
				n++
			}
			wg.Go(func() {
				if err := c.RoundTrips(n, true, text16); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		b.StopTimer()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		c0.report(b)
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		b.ReportMetric(float64(int64(m1)-int64(m0))/float64(len(cs)), "B/conn-pair")
		b.ReportMetric(float64(g1-g0)/float64(len(cs)), "goroutines/conn-pair")
	})
}
