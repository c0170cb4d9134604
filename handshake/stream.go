package handshake

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/wslua/wslua/protocol"
)

// streamReadChunk is the size of the buffer a stream's reader goroutine
// reads the peer's DATA into.
const streamReadChunk = 16 << 10

// streamConn is a net.Conn over one HTTP/2 stream (RFC 8441): reads come
// from the request body (server) or response body (client), writes go to
// the response writer, flushed after each Write (server), or to the request
// body pipe (client).
//
// net/http's stream deadlines are final (an expired one resets the stream
// for good), while protocol.Conn uses deadlines to interrupt a blocked call
// and then goes on. So streamConn keeps its own: a goroutine reads the body
// ahead into one buffer, and Read waits for it or for the read deadline,
// which can be moved freely. A write deadline that passes while a Write is
// blocked aborts the stream (the bytes already sent may end mid-frame, so
// nothing else would be safe); one that passes between writes only makes
// the next Write fail with a timeout.
type streamConn struct {
	body        io.ReadCloser
	w           io.Writer
	flush       func() error // nil: w needs no flushing
	abortWrite  func()       // unblocks a blocked Write, ending the stream
	finishWrite func()       // ends our half of the stream (nil: nothing to do)
	finishRead  func()       // stops reading the peer's half, resetting it if still open
	lingerRead  bool         // Close waits (in the background) for the peer's half to end before finishRead
	laddr       net.Addr
	raddr       net.Addr

	done       chan struct{} // closed once Close has ended our half (server: the handler may return)
	closing    chan struct{} // closed when Close begins
	readerDone chan struct{} // closed when the reader goroutine ends
	closeOnce  sync.Once

	// Reading: the goroutine sends chunks (data, or a final error), and
	// gets each buffer back on ack once Read has used it up.
	chunks chan streamChunk
	ack    chan struct{}
	rmu    sync.Mutex // serializes Read
	pend   []byte     // unread part of the current chunk
	rerr   error      // the body's final error, once seen
	rdl    deadline

	// Writing.
	wmu     sync.Mutex // serializes Write
	werr    error      // sticky: the stream can no longer be written
	wdl     deadline
	amu     sync.Mutex // guards writing and aborted against the deadline timer
	writing bool
	aborted bool
}

// streamChunk is one read result of the body.
type streamChunk struct {
	b   []byte
	err error
}

// newStreamConn returns a streamConn and starts its reader goroutine.
func newStreamConn(s *streamConn) *streamConn {
	s.done = make(chan struct{})
	s.closing = make(chan struct{})
	s.readerDone = make(chan struct{})
	s.chunks = make(chan streamChunk)
	s.ack = make(chan struct{}, 1)
	s.rdl.init(nil)
	s.wdl.init(s.onWriteDeadline)
	go s.readLoop()
	return s
}

// readLoop reads the body until it ends or fails. Once the conn is
// closing, what arrives is discarded: the peer's end of the stream is
// awaited (see Close).
func (s *streamConn) readLoop() {
	defer close(s.readerDone)
	buf := make([]byte, streamReadChunk)
	deliver := true
	for {
		n, err := s.body.Read(buf)
		if n > 0 && deliver {
			select {
			case s.chunks <- streamChunk{b: buf[:n]}:
				select {
				case <-s.ack:
				case <-s.closing:
					deliver = false
				}
			case <-s.closing:
				deliver = false
			}
		}
		if err != nil {
			if deliver {
				select {
				case s.chunks <- streamChunk{err: err}:
				case <-s.closing:
				}
			}
			return
		}
	}
}

// streamLinger is how long Close waits for the peer to end its half of
// the stream before resetting it. After a close handshake the peer ends
// it at once; resetting first can make the peer lose the close frame
// (some servers report 1006 then).
var streamLinger = time.Second

// Read reads what the peer sent on the stream.
func (s *streamConn) Read(p []byte) (int, error) {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	if len(s.pend) == 0 {
		if s.rerr != nil {
			return 0, s.rerr
		}
		if len(p) == 0 {
			return 0, nil
		}
		if s.rdl.expired() {
			return 0, streamTimeout("read")
		}
		select {
		case c := <-s.chunks:
			if c.err != nil {
				s.rerr = c.err
				if errors.Is(c.err, io.EOF) {
					s.rerr = io.EOF
				}
				return 0, s.rerr
			}
			s.pend = c.b
		case <-s.rdl.wait():
			return 0, streamTimeout("read")
		case <-s.closing:
			return 0, net.ErrClosed
		}
	}
	n := copy(p, s.pend)
	s.pend = s.pend[n:]
	if len(s.pend) == 0 {
		s.ack <- struct{}{}
	}
	return n, nil
}

// Write sends p on the stream, flushed.
func (s *streamConn) Write(p []byte) (int, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if isClosed(s.closing) {
		return 0, net.ErrClosed
	}
	if s.werr != nil {
		return 0, s.werr
	}
	s.amu.Lock()
	if s.wdl.expired() {
		s.amu.Unlock()
		return 0, streamTimeout("write")
	}
	s.writing = true
	s.amu.Unlock()

	n, err := s.writeFlush(p)

	s.amu.Lock()
	s.writing = false
	aborted := s.aborted
	s.amu.Unlock()
	switch {
	case aborted && isClosed(s.closing):
		err = net.ErrClosed
	case aborted:
		err = streamTimeout("write")
	}
	if err != nil {
		s.werr = err
	}
	return n, err
}

// writeFlush writes and flushes p. net/http's HTTP/2 response writer
// panics when used after its handler returned: that is turned into an
// error here, for handlers that returned without waiting for Done.
func (s *streamConn) writeFlush(p []byte) (n int, err error) {
	defer func() {
		if r := recover(); r != nil {
			n, err = 0, errHandlerReturned
		}
	}()
	n, err = s.w.Write(p)
	if err == nil && s.flush != nil {
		err = s.flush()
	}
	return n, err
}

// errHandlerReturned reports a write after the upgrading handler returned.
var errHandlerReturned = errors.New("websocket: HTTP/2 stream written after its handler returned (see handshake.Done)")

// onWriteDeadline runs when the write deadline passes: a blocked Write is
// aborted.
func (s *streamConn) onWriteDeadline() {
	s.amu.Lock()
	defer s.amu.Unlock()
	if s.writing && !s.aborted {
		s.aborted = true
		s.abortWrite()
	}
}

// Close ends the stream. A blocked Write is aborted first; a blocked Read
// returns net.ErrClosed. Our half of the stream ends at once. With
// lingerRead (the client) the peer's half is awaited in the background
// for at most streamLinger before it is reset; a server's handler returns
// at once and net/http resets the client's half if still open.
func (s *streamConn) Close() error {
	first := false
	s.closeOnce.Do(func() {
		first = true
		close(s.closing)
		s.amu.Lock()
		if s.writing && !s.aborted {
			s.aborted = true
			s.abortWrite()
		}
		s.amu.Unlock()
		s.wmu.Lock() // the aborted Write has returned
		if s.werr == nil {
			s.werr = net.ErrClosed
		}
		s.wmu.Unlock()
		if s.finishWrite != nil {
			s.finishWrite()
		}
		s.rdl.stop()
		s.wdl.stop()
		close(s.done)
		if s.lingerRead {
			go s.linger()
		} else {
			s.finishRead()
		}
	})
	if !first {
		return net.ErrClosed
	}
	return nil
}

// linger waits for the peer's end of the stream, at most streamLinger,
// then stops reading.
func (s *streamConn) linger() {
	t := time.NewTimer(streamLinger)
	select {
	case <-s.readerDone:
	case <-t.C:
	}
	t.Stop()
	s.finishRead()
}

// LocalAddr returns the local address of the HTTP/2 connection.
func (s *streamConn) LocalAddr() net.Addr { return s.laddr }

// RemoteAddr returns the remote address of the HTTP/2 connection.
func (s *streamConn) RemoteAddr() net.Addr { return s.raddr }

// SetDeadline sets both deadlines.
func (s *streamConn) SetDeadline(t time.Time) error {
	s.rdl.set(t)
	s.wdl.set(t)
	return nil
}

// SetReadDeadline sets the read deadline; it may be moved at any time.
func (s *streamConn) SetReadDeadline(t time.Time) error { s.rdl.set(t); return nil }

// SetWriteDeadline sets the write deadline (see streamConn).
func (s *streamConn) SetWriteDeadline(t time.Time) error { s.wdl.set(t); return nil }

// streamTimeout returns the error of an expired deadline: a net.Error whose
// Timeout is true, matching os.ErrDeadlineExceeded.
func streamTimeout(op string) error {
	return &net.OpError{Op: op, Net: "h2stream", Err: os.ErrDeadlineExceeded}
}

// deadline is a movable deadline: a channel closed when it passes, and an
// optional function run then.
type deadline struct {
	mu       sync.Mutex
	timer    *time.Timer
	c        chan struct{} // closed once the deadline has passed
	onExpire func()
}

func (d *deadline) init(onExpire func()) {
	d.c = make(chan struct{})
	d.onExpire = onExpire
}

// set moves the deadline to t; the zero time means none.
func (d *deadline) set(t time.Time) {
	if d.reset(t) && d.onExpire != nil {
		d.onExpire()
	}
}

// reset moves the deadline and reports whether it passed by doing so.
func (d *deadline) reset(t time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil {
		d.timer.Stop() // a callback already running finds a newer channel
		d.timer = nil
	}
	if isClosed(d.c) {
		d.c = make(chan struct{})
	}
	if t.IsZero() {
		return false
	}
	c := d.c
	if dur := time.Until(t); dur > 0 {
		d.timer = time.AfterFunc(dur, func() { d.expire(c) })
		return false
	}
	close(c)
	return true
}

// expire closes c if it is still the deadline's channel.
func (d *deadline) expire(c chan struct{}) {
	d.mu.Lock()
	if d.c != c || isClosed(c) {
		d.mu.Unlock()
		return
	}
	close(c)
	d.mu.Unlock()
	if d.onExpire != nil {
		d.onExpire()
	}
}

// wait returns a channel closed when the deadline passes.
func (d *deadline) wait() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.c
}

// expired reports whether the deadline has passed.
func (d *deadline) expired() bool { return isClosed(d.wait()) }

// stop cancels the timer.
func (d *deadline) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// closedChan is returned by Done for connections that are not streams.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// Done returns a channel that is closed once the handler that upgraded c
// may return. For HTTP/1.1 it is closed already: the connection was taken
// over from net/http. Over HTTP/2 (RFC 8441) the WebSocket is a stream of
// the handler's request, which net/http ends when the handler returns: the
// channel is closed when c is closed (Close, CloseNow, or a failure). A
// handler that serves c in another goroutine waits for it before returning:
//
//	c, err := handshake.Upgrade(w, r, nil)
//	if err != nil {
//		return
//	}
//	go serve(c)
//	<-handshake.Done(c)
//
// Done also returns a closed channel for a Conn that Upgrade did not make.
func Done(c *protocol.Conn) <-chan struct{} {
	if s, ok := c.NetConn().(*streamConn); ok {
		return s.done
	}
	return closedChan
}
