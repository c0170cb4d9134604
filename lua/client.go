package lua

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wslua/wslua/lua/scheduler"
	"github.com/wslua/wslua/protocol"
)

// connState is the life stage of a client.
type connState int

const (
	stateConnecting connState = iota // dialing
	stateOpen                        // usable
	stateClosing                     // client:close() sent a close frame
	stateClosed                      // ended: the reader saw the end, or the host stopped
)

func (s connState) String() string {
	switch s {
	case stateConnecting:
		return "connecting"
	case stateOpen:
		return "open"
	case stateClosing:
		return "closing"
	}
	return "closed"
}

// goingAwayReason is the reason of the close frame sent when the host stops
// the script.
const goingAwayReason = "going away"

// client is the Go side of a websocket.client userdata. Its methods other
// than those documented as VM-only may be called from any goroutine.
type client struct {
	url  string // the URL without credentials, query or fragment (tostring)
	opts connectOptions
	ch   *scheduler.Channel // the receive channel, closed by the reader
	// overHTTP2: the WebSocket is a stream of an HTTP/2 connection (RFC
	// 8441); set before the client is handed to the script.
	overHTTP2 bool

	// deliverCtx bounds the reader's hand-over of messages to ch; it is
	// canceled when the host stops (shutdown) or the reader ends.
	deliverCtx    context.Context
	cancelDeliver context.CancelFunc
	// control bounds the wait of a failure in stream order (failInOrder);
	// it is stopped with the delivery and when client:close() starts.
	control  controlStop
	dropping atomic.Bool  // a delivery failed: discard everything else
	handed   atomic.Int64 // messages the reader has read and handed (or is handing) over
	// controlDropped counts the pings and pongs not delivered because the
	// receive channel was full (tostring shows it).
	controlDropped atomic.Int64
	// stallStart is when the reader's current hand-over started (Unix
	// nanoseconds, 0 when none is under way): while the receive channel is
	// full, the connection is not read. longestStall is the longest such
	// wait so far (nanoseconds).
	stallStart   atomic.Int64
	longestStall atomic.Int64
	// endCause is why this end closed the connection without a close
	// handshake (a pong timeout), when the protocol cannot know it.
	endCause atomic.Pointer[string]
	ka       *keepalive // automatic pings (ping_interval), or nil
	wire     *meter     // the metered connection under the protocol (keepalive only; set before the reader starts), or nil
	// final is the final close message once the reader has met the end.
	final atomic.Pointer[message]
	// earlyFinal: the final close message went out ahead of a failure
	// (failInOrder). earlySeen is closed when the script has received
	// it.
	earlyFinal    atomic.Bool
	earlySeen     chan struct{}
	earlySeenOnce sync.Once
	// closeInitiated: this end sent a close frame (client:close or host
	// stop), so an unanswered handshake ends with 1006.
	closeInitiated atomic.Bool

	mu          sync.Mutex
	state       connState
	conn        *protocol.Conn // set once the handshake succeeded
	subprotocol string
	unregister  func()      // removes the scheduler closer; nil without scheduler
	stopWatch   func() bool // stops watching the host context; nil without one

	// inflight counts the sends (and pings) started while the client was
	// open and not finished yet; sendsDone, when not nil, is closed when it
	// drops to zero (client:close() waits for it).
	inflight  int
	sendsDone chan struct{}

	readerDone   chan struct{} // closed when the reader ended, or will never run
	releaseOnce  sync.Once
	shutdownOnce sync.Once
}

func newClient(url string, opts connectOptions) *client {
	c := &client{url: url, opts: opts, readerDone: make(chan struct{}), earlySeen: make(chan struct{})}
	if opts.PingInterval > 0 {
		c.ka = newKeepalive(c, opts.PingInterval, opts.PongTimeout)
	}
	c.deliverCtx, c.cancelDeliver = context.WithCancel(context.Background())
	return c
}

// stopDelivery cancels the hand-over of messages and the wait of a failure
// in stream order.
func (c *client) stopDelivery() {
	c.cancelDeliver()
	c.control.stop()
}

// controlStop is a context made only when needed (failInOrder, rare) that
// stop cancels, before or after it is made: a context per connection, and
// the registration of a child context in its parent, cost about half a
// kilobyte for each of thousands of quiet connections.
type controlStop struct {
	mu      sync.Mutex
	ctx     context.Context
	cancel  context.CancelFunc
	stopped bool
}

// context returns the context, canceled if stop was called.
func (s *controlStop) context() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx == nil {
		s.ctx, s.cancel = context.WithCancel(context.Background())
		if s.stopped {
			s.cancel()
		}
	}
	return s.ctx
}

// stop cancels the context, now or once it is made.
func (s *controlStop) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	if s.cancel != nil {
		s.cancel()
	}
}

// readBufferSize is the read buffer of a client's connection. The
// protocol releases its buffer while a read waits on a bare TCP socket
// (ws:// without keepalive); elsewhere (TLS, the keepalive's meter) the
// buffer is held for the connection's life: a small one keeps an idle
// connection small. Payloads larger than the buffer are read straight into
// the message, so only the reads of many small messages in a burst get
// shorter.
const readBufferSize = 512

// protocolOptions are the protocol.Options of the client's connection.
// The reader goroutine reads until the connection ends (DedicatedReader):
// the protocol's Close leaves the peer's close reply to it, so the messages
// the server sent before its reply reach the receive channel. The
// keepalive is the client's own (see keepalive), not the protocol's.
// Failures fail in stream order (DeferFailure, see failorder.go).
func (c *client) protocolOptions() protocol.Options {
	return protocol.Options{
		Role:            protocol.RoleClient,
		ReadBufferSize:  readBufferSize,
		ReadLimit:       c.opts.MaxMessageSize,
		ReadTimeout:     c.opts.ReadTimeout,
		WriteTimeout:    c.opts.WriteTimeout,
		CloseTimeout:    c.opts.CloseTimeout,
		DedicatedReader: true,
		DeferFailure:    true,
		OnPing:          func(p []byte) { c.deliverControl(message{typ: typePing, data: clone(p)}) },
		OnPong:          c.onPong,
	}
}

// onPong is the protocol's pong callback: pongs answering the automatic
// keepalive pings are not delivered, every other one is.
func (c *client) onPong(p []byte) {
	if c.ka != nil && c.ka.pong(p) {
		return
	}
	c.deliverControl(message{typ: typePong, data: clone(p)})
}

func clone(p []byte) []byte { return append([]byte{}, p...) }

// start makes a dialed connection the client's and starts the reader. It
// fails (and closes conn) when the host stopped meanwhile.
func (c *client) start(conn *protocol.Conn) bool {
	c.mu.Lock()
	if c.state != stateConnecting {
		c.mu.Unlock()
		_ = conn.CloseNow()
		c.abort()
		return false
	}
	c.conn = conn
	c.subprotocol = conn.Subprotocol()
	c.state = stateOpen
	c.mu.Unlock()
	if c.ka != nil {
		go c.ka.run()
	}
	go c.readLoop()
	return true
}

// abort ends a client whose reader will never run (failed dial, or the
// host stopped during the dial).
func (c *client) abort() {
	c.mu.Lock()
	c.state = stateClosed
	c.mu.Unlock()
	c.release()
	close(c.readerDone)
}

// release drops the client's registrations: the scheduler closer, the host
// context watch, and the delivery context. Idempotent.
func (c *client) release() {
	c.releaseOnce.Do(func() {
		c.mu.Lock()
		unregister, stopWatch := c.unregister, c.stopWatch
		c.mu.Unlock()
		if stopWatch != nil {
			stopWatch()
		}
		if unregister != nil {
			unregister()
		}
		c.stopDelivery()
		if c.ka != nil {
			c.ka.halt()
		}
	})
}

// readLoop is the reader goroutine: it hands every message to the receive
// channel, then the final close message, then closes the channel. Pings and
// pongs arrive through the protocol callbacks (deliverControl).
//
// The goroutine spends a quiet connection's life parked in a read, and the
// collector shrinks its stack to the smallest size (2 KB) only while it
// holds less than 1 KB there: so the loop's frames stay small, with the
// rare work (the end of the connection) in functions of its own.
func (c *client) readLoop() {
	defer c.readerEnded()
	for c.readOne() {
	}
}

// readOne reads and delivers one message; it reports false once the
// connection has ended (and the final message is delivered).
func (c *client) readOne() bool {
	typ, data, err := c.conn.Read(context.Background())
	if err != nil {
		c.readFailed(err)
		return false
	}
	m := message{typ: typeBinary, data: data}
	if typ == protocol.MessageText {
		m.typ = typeText
	}
	c.deliver(m)
	return true
}

// readFailed delivers the final message of a connection whose read failed.
//
//go:noinline
func (c *client) readFailed(err error) {
	m := c.finalMessage(err)
	early := c.failInOrder(err, m)
	// A failure the protocol held back (DeferFailure) goes out now, if
	// failInOrder did not send it; otherwise Fail does nothing.
	_ = c.conn.Fail()
	if !early {
		c.final.Store(&m)
	}
	c.markClosed()
	if !early {
		c.deliver(m)
	}
}

// readerEnded is the reader goroutine's last act: the receive channel is
// closed, the connection's resources released, keepalive waited for, and
// readerDone closed, in that order.
func (c *client) readerEnded() {
	defer close(c.readerDone)
	defer c.waitKeepalive()
	defer c.release()
	c.ch.CloseGo()
}

// deliver hands m to the receive channel, waiting while it is full
// (backpressure). Once a delivery failed (host stopped, channel closed by
// the script) everything else is discarded, so the reader keeps reading
// until the connection ends.
//
// Data messages keep this backpressure while client:close() runs: the
// reader, not the protocol's Close, reads the server's close reply
// (DedicatedReader), so a script that keeps receiving gets every message
// the server sent before its reply, then the final close message. A full
// channel nobody drains only holds up the reader, not client:close(): the
// handshake then ends by timeout (close_timeout), the connection is closed,
// and what the reader already holds or the channel buffers is still
// delivered if the script receives later, before a final close message
// with 1006 (the reply was never read). Nothing is dropped.
func (c *client) deliver(m message) {
	if c.dropping.Load() {
		return
	}
	c.handed.Add(1)
	if err := c.handOver(c.deliverCtx, m); err != nil {
		c.dropping.Store(true)
	}
}

// handOver sends m to the receive channel, recording how long the reader
// waits for room (see stallStart).
func (c *client) handOver(ctx context.Context, m message) error {
	start := time.Now().UnixNano()
	c.stallStart.Store(start)
	err := c.ch.SendGo(ctx, m)
	c.stallStart.Store(0)
	if d := time.Now().UnixNano() - start; d > c.longestStall.Load() {
		c.longestStall.Store(d)
	}
	return err
}

// stalledSince returns when the reader started waiting for room in the
// receive channel, or the zero time when it is not waiting.
func (c *client) stalledSince() time.Time {
	if ns := c.stallStart.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

// bytesRead and bytesWritten return how many bytes the connection has
// read and written so far (0 without a meter: without keepalive, and in
// tests that build clients by hand).
func (c *client) bytesRead() int64 {
	if c.wire == nil {
		return 0
	}
	return c.wire.read.Load()
}

func (c *client) bytesWritten() int64 {
	if c.wire == nil {
		return 0
	}
	return c.wire.written.Load()
}

// wrote counts n bytes written past the meter (TryWrite's direct write on
// the socket) into bytesWritten.
func (c *client) wrote(n int) {
	if c.wire != nil {
		c.wire.written.Add(int64(n))
	}
}

// stallHint is the minimum wait for room in the receive channel that the
// reason of an abnormal end (1006) mentions as a likely cause.
const stallHint = time.Second

// finalMessage is the package's finalMessage for this client: a cause this
// end knows better than the protocol (endCause) replaces the reason of a
// 1006, and a reader long held up by a full receive channel is named.
func (c *client) finalMessage(err error) message {
	m := finalMessage(err, c.closeInitiated.Load())
	var ce *protocol.CloseError
	if m.code == int(protocol.StatusMessageTooBig) && errors.As(err, &ce) && !ce.Remote {
		// This end failed the connection: name the limit and its option.
		m.reason = fmt.Sprintf("message exceeds max_message_size (%d bytes)", c.opts.MaxMessageSize)
		m.data = []byte(m.reason)
		return m
	}
	if m.code != int(protocol.StatusAbnormalClosure) {
		return m
	}
	if cause := c.endCause.Load(); cause != nil {
		m.reason = *cause
	} else if d := time.Duration(c.longestStall.Load()); d >= stallHint {
		m.reason += fmt.Sprintf(" (reading had stopped for %v while the receive channel was full: the script is not reading its receive channel)", roundDuration(d))
	}
	m.reason = truncateUTF8(m.reason, maxLocalReason)
	m.data = []byte(m.reason)
	return m
}

// endLocally ends the connection at once, without a close handshake,
// because of cause (which becomes the reason of the final 1006 message and
// of later send errors).
func (c *client) endLocally(cause string) {
	c.endCause.CompareAndSwap(nil, &cause)
	m := message{typ: typeClose, code: int(protocol.StatusAbnormalClosure), reason: cause, data: []byte(cause), initiator: initClient}
	c.final.CompareAndSwap(nil, &m)
	c.mu.Lock()
	conn := c.conn
	c.state = stateClosed
	c.mu.Unlock()
	if conn != nil {
		_ = conn.CloseNow()
	}
}

// closedText is the error of a send on a client that is not open: with the
// code and reason of the end when the peer or a failure ended it (final is
// stored before the client is marked closed, so this does not race).
func (c *client) closedText() string {
	if c.closeInitiated.Load() {
		return errClosedText // the script closed it (or the host): nothing to add
	}
	if m := c.final.Load(); m != nil {
		return fmt.Sprintf("%s (%s)", errClosedText, strings.TrimSpace(fmt.Sprintf("%d %s", m.code, m.reason)))
	}
	return errClosedText
}

// markClosed records that the connection has ended.
func (c *client) markClosed() {
	c.mu.Lock()
	c.state = stateClosed
	c.mu.Unlock()
}

// waitKeepalive waits for the keepalive goroutine to end (the connection
// is closed, so a ping write in progress returns).
func (c *client) waitKeepalive() {
	if c.ka != nil {
		<-c.ka.done
	}
}

// deliverControl hands a ping or pong to the receive channel if it has room
// now, and otherwise drops it (counted in controlDropped): a control message
// never holds up the reader. The protocol calls it inside the reader's Read
// (the pong answering a ping is already sent), and a reader waiting there
// would answer no further ping, read no pong of the keepalive and no close
// reply: a script that only sends would see a healthy connection killed by
// the peer (or by its own keepalive) once the pings filled the channel.
// Once client:close() started, pings and pongs are not delivered at all.
func (c *client) deliverControl(m message) {
	if c.dropping.Load() || c.closeInitiated.Load() {
		return
	}
	took, err := c.ch.TrySendGo(m)
	switch {
	case err != nil:
		c.dropping.Store(true) // channel closed by the script, or the run ended
	case took:
		c.handed.Add(1)
	default:
		c.controlDropped.Add(1)
	}
}

// Close implements io.Closer for scheduler.RegisterCloser: the host stops.
func (c *client) Close() error {
	c.shutdown()
	return nil
}

// shutdown ends the connection because the host stops the script: it
// abandons pending deliveries, sends close 1001 (going away) if the
// connection is open, and waits until the reader goroutine has ended.
func (c *client) shutdown() {
	c.shutdownOnce.Do(func() {
		c.dropping.Store(true)
		c.stopDelivery()
		c.mu.Lock()
		prev, conn := c.state, c.conn
		c.state = stateClosed
		c.mu.Unlock()
		if conn == nil {
			return // still dialing: start closes the connection
		}
		if prev == stateOpen {
			c.closeInitiated.Store(true)
			_ = conn.Close(protocol.StatusGoingAway, goingAwayReason)
		}
		if c.earlyFinal.Load() {
			// A failure in stream order is under way (the script may have
			// ended right after its final message): the canceled wait lets
			// the reader send the close frame; give it close_timeout.
			t := time.NewTimer(c.closeTimeout())
			select {
			case <-c.readerDone:
			case <-t.C:
			}
			t.Stop()
		}
		_ = conn.CloseNow()
		<-c.readerDone
	})
}

// beginClose moves an open client to closing and returns its connection;
// ok is false if the client was not open.
func (c *client) beginClose() (conn *protocol.Conn, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != stateOpen {
		return nil, false
	}
	c.state = stateClosing
	c.closeInitiated.Store(true)
	c.control.stop()
	return c.conn, true
}

// openConn returns the connection if the client is open.
func (c *client) openConn() (*protocol.Conn, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conn, c.state == stateOpen
}

// beginSend returns the connection if the client is open and counts a send
// in flight until endSend.
func (c *client) beginSend() (*protocol.Conn, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != stateOpen {
		return nil, false
	}
	c.inflight++
	return c.conn, true
}

// endSend ends a send counted by beginSend.
func (c *client) endSend() {
	c.mu.Lock()
	c.inflight--
	if c.inflight == 0 && c.sendsDone != nil {
		close(c.sendsDone)
		c.sendsDone = nil
	}
	c.mu.Unlock()
}

// waitSends waits until the sends in flight have finished, at most d. The
// client is no longer open, so no send starts meanwhile.
func (c *client) waitSends(d time.Duration) {
	c.mu.Lock()
	if c.inflight == 0 {
		c.mu.Unlock()
		return
	}
	if c.sendsDone == nil {
		c.sendsDone = make(chan struct{})
	}
	done := c.sendsDone
	c.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}

func (c *client) currentState() connState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}
