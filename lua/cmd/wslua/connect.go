package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
	"unicode/utf8"

	"github.com/wslua/wslua/handshake"
	"github.com/wslua/wslua/protocol"
)

// Defaults of wslua connect's flags.
const (
	// defaultDialTimeout bounds connecting: a host that accepts and never
	// answers must not hang a person at the keyboard (gorilla's default
	// dialer uses the same 45 s).
	defaultDialTimeout = 45 * time.Second
	// defaultCloseTimeout is protocol.Conn's default close timeout.
	defaultCloseTimeout = 5 * time.Second
	// defaultMaxMessageSize is websocket.connect's default max_message_size.
	defaultMaxMessageSize = 16 << 20
)

// runConnect is wslua connect.
func runConnect(ctx context.Context, args []string, sio stdio) int {
	cfg, code, done := parseConnectArgs(args, sio.out, sio.err)
	if done {
		return code
	}
	s := &session{cfg: cfg, sio: sio, tty: isTerminal(sio.in), stopping: make(chan struct{})}
	return s.run(ctx)
}

// session is one wslua connect run.
type session struct {
	cfg  *connectConfig
	sio  stdio
	tty  bool // standard input is a terminal: interactive output
	conn *protocol.Conn

	events   chan event    // from the reader goroutine, in wire order
	stopping chan struct{} // closed at the first interrupt: send no more
}

// eventKind says what an event is.
type eventKind int

const (
	evMessage eventKind = iota
	evPing
	evPong
	evEnd // the connection ended: err says how
)

// event is what the reader goroutine hands over to the session's loop.
type event struct {
	kind eventKind
	typ  protocol.MessageType
	data []byte
	err  error
}

// note is what the standard input goroutine tells the loop: a warning to
// print, or the end of input (eof, after every message was sent).
type note struct {
	warning string
	eof     bool
}

// run dials, then relays between standard input and the connection until
// the connection ends; it returns the exit status.
func (s *session) run(ctx context.Context) int {
	s.events = make(chan event, 16)
	s.cfg.dial.Conn.OnPing = func(p []byte) { s.events <- event{kind: evPing, data: clone(p)} }
	s.cfg.dial.Conn.OnPong = func(p []byte) { s.events <- event{kind: evPong, data: clone(p)} }
	if s.cfg.tls != nil {
		tc, err := s.cfg.tls.Config()
		if err != nil {
			fmt.Fprintf(s.sio.err, "wslua: websocket: %v\n", err)
			return exitFailure
		}
		s.cfg.dial.TLSConfig = tc
	}
	conn, resp, err := handshake.Dial(ctx, s.cfg.url, &s.cfg.dial)
	if s.cfg.showHandshake && resp != nil {
		writeHandshake(s.sio.err, resp)
	}
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(s.sio.err, "wslua: interrupted")
			return exitInterrupted
		}
		fmt.Fprintf(s.sio.err, "wslua: %v\n", dialError(err, s.cfg.dial.DialTimeout))
		return exitFailure
	}
	s.conn = conn
	defer conn.CloseNow()
	if s.tty {
		fmt.Fprintf(s.sio.err, "connected to %s%s; Ctrl-D closes (1000), Ctrl-C closes (1001)\n", displayURL(s.cfg.url), connDetails(conn))
	}
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		s.read()
	}()
	defer func() { <-readerDone }()
	return s.loop(ctx)
}

// dialError returns the error websocket.connect reports for a failed dial
// (lua/connect.go): a dial timeout names the option.
func dialError(err error, dialTimeout time.Duration) error {
	if errors.Is(err, context.DeadlineExceeded) && dialTimeout > 0 {
		return fmt.Errorf("%w (dial_timeout %v exceeded)", err, dialTimeout)
	}
	return err
}

// read reads messages until the connection ends, handing them to the loop.
func (s *session) read() {
	for {
		typ, p, err := s.conn.Read(context.Background())
		if err != nil {
			s.events <- event{kind: evEnd, err: err}
			return
		}
		s.events <- event{kind: evMessage, typ: typ, data: p}
	}
}

func clone(p []byte) []byte { return append([]byte(nil), p...) }

// closer runs Close in a goroutine (with a dedicated reader, Close waits
// for the reader, which waits for the loop) and remembers who began.
type closer struct {
	started bool
	code    protocol.StatusCode
	done    chan error // Close's result
}

func (c *closer) start(conn *protocol.Conn, code protocol.StatusCode) {
	if c.started {
		return
	}
	c.started, c.code, c.done = true, code, make(chan error, 1)
	go func() { c.done <- conn.Close(code, "") }()
}

// sentFirst waits for Close and reports whether this side's close frame
// went out first (Close returns ErrClosed when the peer's came first).
func (c *closer) sentFirst() bool {
	return c.started && <-c.done == nil
}

// loop relays until the connection ends.
func (s *session) loop(ctx context.Context) int {
	notes := make(chan note)
	stopInput := make(chan struct{})
	defer close(stopInput)
	go s.pump(notes, stopInput)

	var (
		cl          closer
		interrupted = ctx.Done()
		wasStopped  bool
		inputDone   bool
		received    int
	)
	for {
		select {
		case ev := <-s.events:
			switch ev.kind {
			case evMessage:
				if s.cfg.once && received > 0 {
					continue // --once prints one message
				}
				received++
				s.printMessage(ev.typ, ev.data)
				if s.cfg.once && inputDone {
					cl.start(s.conn, protocol.StatusNormalClosure)
				}
			case evPing, evPong:
				if s.cfg.showPing {
					s.printControl(ev.kind, ev.data)
				}
			case evEnd:
				return s.finish(ev.err, &cl, wasStopped)
			}
		case n := <-notes:
			if n.warning != "" {
				fmt.Fprintf(s.sio.err, "wslua: %s\n", n.warning)
			}
			if n.eof {
				notes = nil
				inputDone = true
				if !s.cfg.once || received > 0 {
					cl.start(s.conn, protocol.StatusNormalClosure)
				}
			}
		case <-interrupted:
			interrupted = nil
			wasStopped = true
			close(s.stopping)
			what := "closing with 1001 (waiting"
			if cl.started {
				what = "closing (waiting"
			}
			cl.start(s.conn, protocol.StatusGoingAway)
			fmt.Fprintf(s.sio.err, "wslua: interrupted: %s up to %v for the server's close reply); Ctrl-C again to quit\n", what, closeTimeout(s.cfg))
		}
	}
}

// closeTimeout returns the close timeout in force.
func closeTimeout(cfg *connectConfig) time.Duration {
	if d := cfg.dial.Conn.CloseTimeout; d > 0 {
		return d
	}
	return defaultCloseTimeout
}

// pump reads standard input and sends it: each line (without its line
// ending) as a message, or with --binary on a pipe all of it as one
// message. It runs on its own goroutine, so that a send that waits for the
// server never keeps the loop from printing what the server sends (which
// the server may be waiting for). It tells the loop about lines not sent
// and about the end of input; it stops early when stop or s.stopping is
// closed or a send fails.
func (s *session) pump(notes chan<- note, stop <-chan struct{}) {
	tell := func(n note) bool {
		select {
		case notes <- n:
			return true
		case <-stop:
			return false
		}
	}
	typ := protocol.MessageText
	if s.cfg.binary {
		typ = protocol.MessageBinary
	}
	// send reports whether to go on.
	send := func(p []byte) bool {
		select {
		case <-s.stopping:
			return false
		default:
		}
		if typ == protocol.MessageText && !utf8.Valid(p) {
			return tell(note{warning: "not sent: the line is not valid UTF-8 (use --binary)"})
		}
		if err := s.conn.Write(context.Background(), typ, p); err != nil {
			if !errors.Is(err, protocol.ErrClosed) {
				tell(note{warning: "send: " + err.Error()})
			}
			return false
		}
		return true
	}
	if s.cfg.binary && !s.tty {
		p, err := io.ReadAll(io.LimitReader(s.sio.in, s.cfg.maxMessageSize+1))
		switch {
		case err != nil:
			tell(note{warning: "reading standard input: " + err.Error(), eof: true})
		case int64(len(p)) > s.cfg.maxMessageSize:
			tell(note{warning: fmt.Sprintf("not sent: standard input is larger than --max-message-size (%d bytes)", s.cfg.maxMessageSize), eof: true})
		case send(p):
			tell(note{eof: true})
		}
		return
	}
	br := bufio.NewReader(s.sio.in)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 && (err == nil || err == io.EOF) && !send(trimLineEnd(line)) {
			return
		}
		if err != nil {
			n := note{eof: true}
			if err != io.EOF && !errors.Is(err, os.ErrClosed) {
				n.warning = "reading standard input: " + err.Error()
			}
			tell(n)
			return
		}
	}
}

// trimLineEnd removes a trailing "\n" or "\r\n".
func trimLineEnd(line []byte) []byte {
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
	}
	return line
}

// finish reports how the connection ended and returns the exit status.
func (s *session) finish(err error, cl *closer, interrupted bool) int {
	weStarted := cl.sentFirst()
	var ce *protocol.CloseError
	if !errors.As(err, &ce) {
		ce = &protocol.CloseError{Code: protocol.StatusAbnormalClosure, Err: err}
	}
	line, ok := closeSummary(ce, weStarted, cl.code, closeTimeout(s.cfg))
	code := exitFailure
	switch {
	case interrupted:
		code = exitInterrupted
	case ok:
		code = exitOK
	}
	switch {
	case s.tty:
		fmt.Fprintln(s.sio.err, line)
	case code != exitOK:
		fmt.Fprintf(s.sio.err, "wslua: %s\n", line)
	}
	return code
}

// closeSummary describes the end of the connection in one line, and
// reports whether it was a normal close: a close with 1000 started by the
// server, or started here with 1000 and answered.
func closeSummary(ce *protocol.CloseError, weStarted bool, sent protocol.StatusCode, timeout time.Duration) (string, bool) {
	switch {
	case ce.Received && weStarted:
		return fmt.Sprintf("closed by us with %s; the server replied %s", codeText(sent, ""), codeText(ce.Code, ce.Reason)),
			sent == protocol.StatusNormalClosure
	case ce.Received:
		return "closed by the server with " + codeText(ce.Code, ce.Reason), ce.Code == protocol.StatusNormalClosure
	case weStarted && errors.Is(ce.Err, os.ErrDeadlineExceeded):
		return fmt.Sprintf("closed by us with %s; no close reply from the server within %v", codeText(sent, ""), timeout), false
	case weStarted && ce.Err == nil:
		return "closed by us with " + codeText(sent, ""), false
	}
	cause := "connection lost"
	if ce.Err != nil {
		cause = ce.Err.Error()
	}
	return fmt.Sprintf("connection failed with %s: %s", codeText(ce.Code, ""), cause), false
}
