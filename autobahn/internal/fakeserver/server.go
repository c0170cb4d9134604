// Package fakeserver is a stand-in for the Autobahn testsuite's
// fuzzingserver, for the tests of the client drivers (the real one runs in
// Docker, which tests cannot use). It speaks the same client protocol:
//
//	/getCaseCount                  sends the number of cases as a text message, then closes
//	/runCase?case=N&agent=A        runs case N (from 1) and records its outcome for agent A
//	/updateReports?agent=A         records the call, then closes
//
// Its cases are scripted in Go (see DefaultCases): each sends messages and
// checks that the client echoes them back unchanged, with the same type,
// then closes; the outcome is nil or the first difference seen. It is built
// on this module's handshake.Upgrade and protocol.Conn, and writes raw frames
// where a case needs control over fragmentation.
package fakeserver

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wslua/wslua/handshake"
	"github.com/wslua/wslua/protocol"
)

// caseTimeout bounds one case, so a client that stops echoing makes the
// case fail instead of hanging the test.
const caseTimeout = 15 * time.Second

// Case is one scripted case.
type Case struct {
	// Name describes the case in failure messages.
	Name string
	// Refuse makes the server answer the case's opening handshake with
	// HTTP 503 instead of upgrading (the outcome is recorded as OK).
	Refuse bool
	// Compress makes the server accept permessage-deflate for the case
	// when the client offers it, as the real fuzzingserver does in its
	// sections 12 and 13 (Result.Compressed tells whether it was agreed).
	Compress bool
	// Run drives the connection. It returns nil if the client behaved.
	// The server closes the connection after Run returns nil, with code 1000
	// unless Run closed it itself, and checks the client's answer.
	Run func(ctx context.Context, c *Conn) error
}

// Result is the outcome of one case run.
type Result struct {
	seq   int // order of the runCase request
	Case  int
	Agent string
	// Err is nil if the client behaved, else what went wrong.
	Err error
	// Compressed: permessage-deflate was agreed for the case (see
	// Case.Compress).
	Compressed bool
}

// OK reports whether the client behaved.
func (r Result) OK() bool { return r.Err == nil }

// Server is a running fake fuzzingserver on 127.0.0.1.
type Server struct {
	cases []Case
	hs    *httptest.Server

	ctx    context.Context // canceled by Close: running cases end
	cancel context.CancelFunc
	wg     sync.WaitGroup // handlers, which outlive the HTTP request once hijacked

	closeOnce sync.Once

	mu          sync.Mutex
	started     int // runCase requests so far
	results     []Result
	updates     []string
	countCalls  int
	badRequests []string
}

// New starts a fake fuzzingserver on 127.0.0.1 running cases; nil means
// DefaultCases.
func New(cases []Case) *Server {
	return NewOn(nil, cases)
}

// NewOn is New serving on ln (nil: a new listener on 127.0.0.1).
func NewOn(ln net.Listener, cases []Case) *Server {
	if cases == nil {
		cases = DefaultCases()
	}
	s := &Server{cases: cases}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.hs = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	if ln != nil {
		s.hs.Listener.Close()
		s.hs.Listener = ln
	}
	s.hs.Start()
	return s
}

// URL is the server's base URL: ws://127.0.0.1:port.
func (s *Server) URL() string { return "ws" + strings.TrimPrefix(s.hs.URL, "http") }

// Close stops the server and waits for every connection's handler. A
// client may see the end of a case before the server has recorded it: call
// Close before reading the outcomes. Close may be called more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.cancel()
		s.hs.Close()
		s.wg.Wait()
	})
}

// Results returns every case run so far, in the order the client asked
// for them.
func (s *Server) Results() []Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := append([]Result(nil), s.results...)
	slices.SortFunc(rs, func(a, b Result) int { return a.seq - b.seq })
	return rs
}

// Updates returns the agents of the /updateReports calls, in order.
func (s *Server) Updates() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.updates...)
}

// CountCalls returns how many times /getCaseCount was asked.
func (s *Server) CountCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.countCalls
}

// BadRequests returns the requests the server could not make sense of
// (unknown path, missing or bad parameters, failed upgrade).
func (s *Server) BadRequests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.badRequests...)
}

func (s *Server) bad(format string, args ...any) {
	s.mu.Lock()
	s.badRequests = append(s.badRequests, fmt.Sprintf(format, args...))
	s.mu.Unlock()
}

func (s *Server) record(r Result) {
	s.mu.Lock()
	s.results = append(s.results, r)
	s.mu.Unlock()
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.wg.Add(1)
	defer s.wg.Done()
	if s.ctx.Err() != nil {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	q := r.URL.Query()
	switch r.URL.Path {
	case "/getCaseCount":
		s.mu.Lock()
		s.countCalls++
		s.mu.Unlock()
		s.serveCount(w, r)
	case "/runCase":
		n, err := strconv.Atoi(q.Get("case"))
		agent := q.Get("agent")
		switch {
		case err != nil || n < 1 || n > len(s.cases):
			s.bad("runCase: bad case %q (have %d cases)", q.Get("case"), len(s.cases))
			http.Error(w, "no such case", http.StatusNotFound)
		case agent == "":
			s.bad("runCase %d: no agent", n)
			http.Error(w, "no agent", http.StatusBadRequest)
		default:
			s.serveCase(w, r, n, agent)
		}
	case "/updateReports":
		agent := q.Get("agent")
		if agent == "" {
			s.bad("updateReports: no agent")
			http.Error(w, "no agent", http.StatusBadRequest)
			return
		}
		s.serveUpdate(w, r, agent)
	default:
		s.bad("unknown path %q", r.URL.Path)
		http.NotFound(w, r)
	}
}

// upgrade upgrades r with a read limit large enough for the cases, and
// permessage-deflate if compress and the client offers it.
func (s *Server) upgrade(w http.ResponseWriter, r *http.Request, compress bool) (*protocol.Conn, error) {
	opts := &handshake.UpgradeOptions{
		Conn: protocol.Options{ReadLimit: 64 << 20, ReadTimeout: caseTimeout, CloseTimeout: 5 * time.Second},
	}
	if compress {
		opts.Compression = &protocol.CompressionOptions{}
	}
	conn, err := handshake.Upgrade(w, r, opts)
	if err != nil {
		s.bad("%s: upgrade: %v", r.URL.Path, err)
	}
	return conn, err
}

func (s *Server) serveCount(w http.ResponseWriter, r *http.Request) {
	conn, err := s.upgrade(w, r, false)
	if err != nil {
		return
	}
	defer conn.CloseNow()
	ctx, cancel := context.WithTimeout(s.ctx, caseTimeout)
	defer cancel()
	if err := conn.Write(ctx, protocol.MessageText, []byte(strconv.Itoa(len(s.cases)))); err != nil {
		s.bad("getCaseCount: write: %v", err)
		return
	}
	_ = conn.Close(protocol.StatusNormalClosure, "")
}

func (s *Server) serveUpdate(w http.ResponseWriter, r *http.Request, agent string) {
	conn, err := s.upgrade(w, r, false)
	if err != nil {
		return
	}
	defer conn.CloseNow()
	s.mu.Lock()
	s.updates = append(s.updates, agent)
	s.mu.Unlock()
	_ = conn.Close(protocol.StatusNormalClosure, "")
}

func (s *Server) serveCase(w http.ResponseWriter, r *http.Request, n int, agent string) {
	s.mu.Lock()
	s.started++
	seq := s.started
	s.mu.Unlock()
	c := s.cases[n-1]
	if c.Refuse {
		http.Error(w, "case refused", http.StatusServiceUnavailable)
		s.record(Result{seq: seq, Case: n, Agent: agent})
		return
	}
	conn, err := s.upgrade(w, r, c.Compress)
	if err != nil {
		s.record(Result{seq: seq, Case: n, Agent: agent, Err: err})
		return
	}
	defer conn.CloseNow()
	ctx, cancel := context.WithTimeout(s.ctx, caseTimeout)
	defer cancel()
	fc := &Conn{Conn: conn}
	err = c.Run(ctx, fc)
	if err == nil && !fc.closed {
		err = fc.CloseAndCheck(ctx, protocol.StatusNormalClosure, "")
	}
	if err != nil {
		err = fmt.Errorf("case %d (%s): %w", n, c.Name, err)
	}
	s.record(Result{seq: seq, Case: n, Agent: agent, Err: err, Compressed: conn.Compression() != nil})
}
