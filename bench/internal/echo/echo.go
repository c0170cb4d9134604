// Package echo runs one echo server per WebSocket implementation under test,
// plus a plain TCP server speaking length-prefixed messages, all on loopback.
//
// Every WebSocket server serves two paths: EchoPath sends every data message
// back with its type, SinkPath swallows data messages and answers every
// AckEvery of them with one small binary ack message. The TCP server selects
// the same two behaviours by the first byte a client sends (TCPEcho or
// TCPSink).
package echo

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// Implementation names, as used in benchmark names and on the command line.
const (
	Ours    = "ours"
	Gorilla = "gorilla"
	Coder   = "coder"
	GWS     = "gws"
	Gobwas  = "gobwas"
	TCP     = "tcp"
)

// Impls lists every implementation, ours first and the TCP baseline last.
var Impls = []string{Ours, Gorilla, Coder, GWS, Gobwas, TCP}

// Peers lists the WebSocket implementations we compare ours with.
var Peers = []string{Gorilla, Coder, GWS, Gobwas}

// Paths and parameters shared by servers and clients.
const (
	// EchoPath echoes every data message.
	EchoPath = "/echo"
	// SinkPath acknowledges every AckEvery data messages with Ack.
	SinkPath = "/sink"
	// AckEvery is the number of messages the sink reads per ack.
	AckEvery = 16
	// TCPEcho is the first byte of a TCP client that wants the echo.
	TCPEcho = 'E'
	// TCPSink is the first byte of a TCP client that wants the sink.
	TCPSink = 'S'
	// MaxMessage bounds every message the servers accept. It is above the
	// largest benchmark message (16 MiB) so that no peer's default limit
	// gets in the way.
	MaxMessage = 32 << 20
)

// Ack is the payload of the sink's acknowledgements.
var Ack = []byte("ack")

// Server is a running echo server.
type Server struct {
	// Impl is the implementation name.
	Impl string
	// Addr is the host:port the server listens on.
	Addr string

	ln    net.Listener
	stop  func() // stops accepting; may be nil
	mu    sync.Mutex
	conns map[int]io.Closer
	next  int
	done  bool
	wg    sync.WaitGroup
}

// URL returns the ws:// URL of path on s.
func (s *Server) URL(path string) string { return "ws://" + s.Addr + path }

// Start starts the server of impl on addr ("127.0.0.1:0" picks a port).
func Start(impl, addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{Impl: impl, Addr: ln.Addr().String(), ln: ln, conns: map[int]io.Closer{}}
	switch impl {
	case Ours:
		s.serveHTTP(oursHandler(s))
	case Gorilla:
		s.serveHTTP(gorillaHandler(s))
	case Coder:
		s.serveHTTP(coderHandler(s))
	case GWS:
		s.serveHTTP(gwsHandler(s))
	case Gobwas:
		s.acceptLoop(s.serveGobwas)
	case TCP:
		s.acceptLoop(s.serveTCP)
	default:
		_ = ln.Close()
		return nil, fmt.Errorf("echo: unknown implementation %q", impl)
	}
	return s, nil
}

// Close stops the server, closes every connection it holds and waits for its
// goroutines to end.
func (s *Server) Close() error {
	err := s.ln.Close()
	if s.stop != nil {
		s.stop()
	}
	s.mu.Lock()
	s.done = true
	conns := s.conns
	s.conns = nil
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
	s.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// track registers a connection to be closed by Close and returns the
// function that unregisters it. It returns nil if the server is closing; the
// caller must then close the connection itself.
func (s *Server) track(c io.Closer) (untrack func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return nil
	}
	id := s.next
	s.next++
	s.conns[id] = c
	return func() {
		s.mu.Lock()
		delete(s.conns, id)
		s.mu.Unlock()
	}
}

// acceptLoop serves raw TCP connections with serve, one goroutine each.
func (s *Server) acceptLoop(serve func(net.Conn)) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := s.ln.Accept()
			if err != nil {
				return
			}
			untrack := s.track(c)
			if untrack == nil {
				_ = c.Close()
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer untrack()
				defer c.Close()
				serve(c)
			}()
		}
	}()
}

// serveHTTP serves h with net/http on s's listener.
func (s *Server) serveHTTP(h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.stop = func() { _ = srv.Close() }
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = srv.Serve(s.ln)
	}()
}

// enter registers a connection handler that must end before Close returns.
// It reports false if the server is closing.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return false
	}
	s.wg.Add(1)
	return true
}

// AppendAll reads r to EOF, appending to dst, and returns the extended slice.
// It grows dst geometrically and never shrinks it, so a reused buffer stops
// allocating once it has held the largest message.
func AppendAll(dst []byte, r io.Reader) ([]byte, error) {
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}
