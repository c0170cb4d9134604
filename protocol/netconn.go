package protocol

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// NetConn returns a net.Conn that carries a byte stream over c in messages
// of type typ, for code written against net.Conn (an io.Copy, a bufio
// reader, a TLS or multiplexing layer tunnelled through WebSocket).
//
// Read returns the payloads of the messages one after the other, as one
// stream: a Read may return part of a message, and never spans the end of
// one. Each Write of n > 0 bytes sends one message of n bytes (a Write of
// none sends nothing); with MessageText each Write must therefore hold whole
// UTF-8 characters, since the peer validates every message (binary is the
// type for arbitrary bytes). A message of the other type fails the connection with
// 1003 (StatusUnsupportedData) and Read returns an error. Messages stay
// subject to Options.ReadLimit: set it at Dial or Upgrade to the largest
// message the peer writes.
//
// Read returns io.EOF once the peer closed the connection with 1000
// (StatusNormalClosure) or 1001 (StatusGoingAway), or this end did so
// through c; any other end of the connection is an error (a *net.OpError
// whose Err is the Conn's *CloseError, see CloseStatus). Close runs the
// close handshake with 1000, bounded by Options.CloseTimeout; calls on the
// net.Conn after its Close return an error matching net.ErrClosed.
//
// Deadlines: SetDeadline, SetReadDeadline and SetWriteDeadline are
// honoured through the contexts that the calls give c. A call made after
// its deadline has passed returns at once an error matching
// os.ErrDeadlineExceeded (a net.Error whose Timeout is true), and a later
// deadline (or none) makes calls work again, as with a net.Conn over TCP.
// Unlike TCP, a deadline that passes while a Read or Write is blocked may cut a
// message short on one side or the other: the call returns the same timeout
// error and the connection is closed at once (CloseNow), as coder/websocket's
// NetConn does.
//
// ctx bounds the life of the returned net.Conn: once it is done, c is
// closed at once (CloseNow). Pass context.Background() for no bound, and not
// an HTTP request's context, which ends when the handler returns.
//
// LocalAddr and RemoteAddr are those of c's network connection
// (c.NetConn()). Do not use c's own reading methods while the net.Conn is in
// use: Read keeps the unread rest of a message between calls. Writing
// through c is safe: its messages of type typ join the stream. Pings keep
// working both ways (the peer's are answered while Read reads).
func NetConn(ctx context.Context, c *Conn, typ MessageType) net.Conn {
	nc := &netConn{c: c, typ: typ, ctx: ctx}
	nc.read.init(ctx, nc.interrupt)
	nc.write.init(ctx, nc.interrupt)
	nc.stop = context.AfterFunc(ctx, func() { _ = c.CloseNow() })
	return nc
}

// netConn is the net.Conn of NetConn.
type netConn struct {
	c    *Conn
	typ  MessageType
	ctx  context.Context // NetConn's
	stop func() bool     // unregisters the CloseNow on ctx's end

	read, write streamDeadline
	closed      atomic.Bool

	readMu sync.Mutex // serializes Read, guards msg
	msg    io.Reader  // the message being read, nil between messages
}

// Read reads the stream: see NetConn.
func (nc *netConn) Read(p []byte) (int, error) {
	nc.readMu.Lock()
	defer nc.readMu.Unlock()
	if nc.closed.Load() {
		return 0, nc.opError("read", net.ErrClosed)
	}
	ctx, err := nc.read.begin()
	if err != nil {
		return 0, nc.opError("read", err)
	}
	defer nc.read.end()
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if nc.msg == nil {
			typ, r, err := nc.c.Reader(ctx)
			if err != nil {
				return 0, nc.readError(ctx, err)
			}
			if typ != nc.typ {
				err := fmt.Errorf("websocket: %s message on a %s stream", typ, nc.typ)
				_ = nc.c.Close(StatusUnsupportedData, "expected "+nc.typ.String()+" messages")
				return 0, nc.opError("read", err)
			}
			nc.msg = r
		}
		n, err := nc.msg.Read(p)
		if err == io.EOF {
			nc.msg, err = nil, nil
		}
		if err != nil {
			return n, nc.readError(ctx, err)
		}
		if n > 0 {
			return n, nil
		}
	}
}

// readError turns the error of a read of c into Read's: io.EOF for a
// normal close, a timeout if the read deadline cut the read short.
func (nc *netConn) readError(ctx context.Context, err error) error {
	nc.ended()
	if nc.closed.Load() {
		return nc.opError("read", net.ErrClosed)
	}
	if nc.interrupted(ctx) {
		return nc.opError("read", os.ErrDeadlineExceeded)
	}
	if code := CloseStatus(err); code == StatusNormalClosure || code == StatusGoingAway {
		return io.EOF
	}
	return nc.opError("read", err)
}

// Write sends p as one message: see NetConn.
func (nc *netConn) Write(p []byte) (int, error) {
	if nc.closed.Load() {
		return 0, nc.opError("write", net.ErrClosed)
	}
	ctx, err := nc.write.begin()
	if err != nil {
		return 0, nc.opError("write", err)
	}
	defer nc.write.end()
	if len(p) == 0 {
		return 0, nil
	}
	if err := nc.c.Write(ctx, nc.typ, p); err != nil {
		nc.ended()
		switch {
		case nc.closed.Load():
			err = net.ErrClosed
		case nc.interrupted(ctx):
			err = os.ErrDeadlineExceeded
		}
		return 0, nc.opError("write", err)
	}
	return len(p), nil
}

// ended closes c if NetConn's context is done, before a call that failed
// because of it returns (the AfterFunc doing so may not have run yet).
func (nc *netConn) ended() {
	if nc.ctx.Err() != nil {
		_ = nc.c.CloseNow()
	}
}

// interrupt closes the connection when a deadline passes during a call:
// a message may be cut short in the stream.
func (nc *netConn) interrupt() { _ = nc.c.CloseNow() }

// interrupted reports whether a deadline passed during the call that used
// ctx (see deadline); it then makes sure that c is closed before the call
// returns (the timer closing it may not have run yet).
func (nc *netConn) interrupted(ctx context.Context) bool {
	if ctx.Err() == nil || context.Cause(ctx) != os.ErrDeadlineExceeded {
		return false
	}
	nc.interrupt()
	return true
}

// Close runs the close handshake with 1000 and releases the connection.
// A connection the peer already closed, or that failed, closes without
// error; a second Close returns an error matching net.ErrClosed.
func (nc *netConn) Close() error {
	if nc.closed.Swap(true) {
		return nc.opError("close", net.ErrClosed)
	}
	nc.stop()
	err := nc.c.Close(StatusNormalClosure, "")
	_ = nc.c.CloseNow() // whatever Close left open
	nc.read.close()
	nc.write.close()
	if err != nil && !errors.Is(err, ErrClosed) {
		return nc.opError("close", err)
	}
	return nil
}

// LocalAddr returns the local address of c's network connection.
func (nc *netConn) LocalAddr() net.Addr { return nc.c.NetConn().LocalAddr() }

// RemoteAddr returns the remote address of c's network connection.
func (nc *netConn) RemoteAddr() net.Addr { return nc.c.NetConn().RemoteAddr() }

// SetDeadline sets the read and write deadlines.
func (nc *netConn) SetDeadline(t time.Time) error {
	if nc.closed.Load() {
		return nc.opError("set deadline", net.ErrClosed)
	}
	nc.read.set(t)
	nc.write.set(t)
	return nil
}

// SetReadDeadline sets the deadline of Read calls: see NetConn.
func (nc *netConn) SetReadDeadline(t time.Time) error {
	if nc.closed.Load() {
		return nc.opError("set deadline", net.ErrClosed)
	}
	nc.read.set(t)
	return nil
}

// SetWriteDeadline sets the deadline of Write calls: see NetConn.
func (nc *netConn) SetWriteDeadline(t time.Time) error {
	if nc.closed.Load() {
		return nc.opError("set deadline", net.ErrClosed)
	}
	nc.write.set(t)
	return nil
}

// opError wraps err as net.Conn implementations do.
func (nc *netConn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "websocket", Source: nc.LocalAddr(), Addr: nc.RemoteAddr(), Err: err}
}

// streamDeadline turns the deadline of one direction of a netConn into the
// context its calls give the Conn. That context lives as long as the
// deadline does not interrupt a call, so a message reader obtained under
// it stays usable across Read calls and deadline changes. When the deadline
// passes while a call is in progress, the context is cancelled with cause
// os.ErrDeadlineExceeded and interrupt is called (the call's message may
// be cut short); when it passes between calls, nothing is cancelled and the
// next calls see the passed deadline in begin.
type streamDeadline struct {
	base      context.Context
	interrupt func()
	mu        sync.Mutex
	ctx       context.Context
	cancel    context.CancelCauseFunc
	at        time.Time   // zero: none
	timer     *time.Timer // fires at at, if set and in the future
	gen       uint64      // counts set calls: a timer of an earlier deadline does nothing
	busy      int         // calls between begin and end
}

func (d *streamDeadline) init(base context.Context, interrupt func()) {
	d.base, d.interrupt = base, interrupt
	d.ctx, d.cancel = context.WithCancelCause(base)
}

// set replaces the deadline; t zero removes it.
func (d *streamDeadline) set(t time.Time) {
	d.mu.Lock()
	hit := d.setLocked(t)
	d.mu.Unlock()
	if hit {
		d.interrupt()
	}
}

// setLocked does set's work with d.mu held; it reports whether calls in
// progress were interrupted (t has passed already).
func (d *streamDeadline) setLocked(t time.Time) bool {
	d.gen++
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	if d.ctx.Err() != nil {
		// An earlier deadline interrupted a call (and closed the Conn):
		// later calls get the Conn's own error, not that cancellation.
		d.ctx, d.cancel = context.WithCancelCause(d.base)
	}
	d.at = t
	if t.IsZero() {
		return false
	}
	wait := time.Until(t)
	if wait <= 0 {
		return d.expire()
	}
	gen := d.gen
	d.timer = time.AfterFunc(wait, func() {
		d.mu.Lock()
		hit := d.gen == gen && d.expire()
		d.mu.Unlock()
		if hit {
			d.interrupt()
		}
	})
	return false
}

// expire cancels the context if calls are in progress and reports whether
// it did; d.mu is held.
func (d *streamDeadline) expire() bool {
	if d.busy == 0 {
		return false
	}
	d.cancel(os.ErrDeadlineExceeded)
	return true
}

// begin starts a call: it returns the context to run it under, or
// os.ErrDeadlineExceeded if the deadline has passed.
func (d *streamDeadline) begin() (context.Context, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.at.IsZero() && !time.Now().Before(d.at) {
		return nil, os.ErrDeadlineExceeded
	}
	d.busy++
	return d.ctx, nil
}

// end ends a call started by begin.
func (d *streamDeadline) end() {
	d.mu.Lock()
	d.busy--
	d.mu.Unlock()
}

// close stops the timer and releases the context.
func (d *streamDeadline) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.gen++
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	d.cancel(net.ErrClosed)
}
