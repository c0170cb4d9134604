// Command echoserver runs one of the benchmark echo servers until it is
// interrupted, for benchmarks driven from another process (the Lua and Node
// scripts, and the memory-at-rest benchmark).
//
//	echoserver -impl ours -addr 127.0.0.1:9001 [-stats 127.0.0.1:0]
//
// It prints one line once listening: the server's ws:// base URL and, with
// -stats, the URL of a JSON report of the process's Go memory, taken after
// two garbage collections: {"heap":..., "stack":..., "goroutines":...}; the
// same listener serves /debug/pprof/heap and /debug/pprof/goroutine.
// Paths: /echo echoes every message; /sink acks every 16 messages. The tcp
// implementation speaks the length-prefixed baseline protocol instead.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/wslua/wslua/bench/internal/echo"
)

// Stats is the memory report served at /stats.
type Stats struct {
	Heap       uint64 `json:"heap"`
	Stack      uint64 `json:"stack"`
	Goroutines int    `json:"goroutines"`
}

func main() {
	impl := flag.String("impl", echo.Ours, "implementation: ours, gorilla, coder, gws, gobwas or tcp")
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback)")
	stats := flag.String("stats", "", "if set, serve memory stats at http://ADDR/stats")
	profRate := flag.Int("memprofilerate", 0, "if positive, set runtime.MemProfileRate (1: record every allocation)")
	flag.Parse()
	if *profRate > 0 {
		runtime.MemProfileRate = *profRate
	}
	if err := run(*impl, *addr, *stats); err != nil {
		fmt.Fprintln(os.Stderr, "echoserver:", err)
		os.Exit(1)
	}
}

func run(impl, addr, statsAddr string) error {
	if impl == echo.Ours && !echo.OursBuilt {
		return errors.New("built without the wslua implementation (wsbench_noours)")
	}
	srv, err := echo.Start(impl, addr)
	if err != nil {
		return err
	}
	defer srv.Close()
	line := "ws://" + srv.Addr
	if statsAddr != "" {
		ln, err := net.Listen("tcp", statsAddr)
		if err != nil {
			return err
		}
		mux := http.NewServeMux()
		mux.HandleFunc("/stats", serveStats)
		mux.Handle("/debug/pprof/heap", pprof.Handler("heap"))
		mux.Handle("/debug/pprof/goroutine", pprof.Handler("goroutine"))
		hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = hs.Serve(ln) }()
		defer hs.Close()
		line += " stats=http://" + ln.Addr().String() + "/stats"
	}
	fmt.Println(line)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	return nil
}

// serveStats reports the live Go memory after two collections.
func serveStats(w http.ResponseWriter, _ *http.Request) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(Stats{Heap: ms.HeapAlloc, Stack: ms.StackInuse, Goroutines: runtime.NumGoroutine()})
}
