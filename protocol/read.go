package protocol

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"time"

	"github.com/wslua/wslua/framing"
)

// maxPrealloc bounds what a read allocates ahead of the data: nothing is
// allocated for a frame until the first bytes of its payload are there,
// then at most this much; a longer frame gets a buffer that grows as its
// payload actually arrives (at most doubling what has arrived), so a peer
// cannot make the Conn allocate by announcing a length.
const maxPrealloc = 64 << 10

// readState is the read side's position in the frame stream. It belongs to
// the holder of Conn.readLock.
type readState struct {
	ctx       context.Context // of the current read call, nil if none
	noIdle    bool            // don't apply ReadTimeout (Close drains with its own deadline)
	inCtrl    bool            // a control frame's payload is being read
	pongOwed  bool            // a ping is not answered yet: pong[:pongLen] is owed
	pongLen   uint8
	active    bool           // a data message is being read (its end not reached)
	op        framing.Opcode // opcode of that message
	size      int64          // payload bytes announced so far for the message
	utf8      uint8          // UTF-8 automaton state (text messages)
	remaining int64          // payload bytes left in the current data frame
	frameLen  int64          // payload length of the current data frame
	fin       bool           // the current data frame is the message's last
	masked    bool           // the current frame is masked with key
	key       [4]byte
	pos       int                             // masking offset into the current frame
	ctrl      [framing.MaxControlPayload]byte // control payloads; scratch for discarding
	pong      [framing.MaxControlPayload]byte // the pong owed
}

// Read reads the next data message and returns its type and payload in a
// new slice: exactly the message's size when the message is one frame,
// grown as fragments arrive otherwise. Control frames met on the way are
// handled (see Conn).
//
// Once the connection is closed Read returns a *CloseError (always the same
// one). If ctx is done while Read waits for the next message (no frame of
// it read, nothing partly read), Read returns ctx.Err() and the Conn stays
// usable: a later Read picks up where this one stopped. If ctx is done
// after part of a message or frame was read, the stream cannot be resumed:
// the connection fails (a *CloseError with code 1006 whose Err is
// ctx.Err()), and Read returns ctx.Err().
func (c *Conn) Read(ctx context.Context) (MessageType, []byte, error) {
	return c.readMessage(ctx, nil, true)
}

// ReadAppend reads the next data message like Read, appending its payload
// to dst and returning the extended slice, as append does: nothing is
// written into dst's spare capacity beyond the bytes appended. With a dst
// of sufficient capacity (for instance the previous result[:0]) it does
// not allocate.
func (c *Conn) ReadAppend(ctx context.Context, dst []byte) (MessageType, []byte, error) {
	return c.readMessage(ctx, dst, false)
}

// readMessage reads the next data message, appending it to dst; with
// nonNil, an empty message read into a nil dst returns an empty non-nil
// slice (Read's promise). Read and ReadAppend stay small enough to inline,
// sparing a goroutine parked in them a frame.
func (c *Conn) readMessage(ctx context.Context, dst []byte, nonNil bool) (MessageType, []byte, error) {
	watched, err := c.beginRead(ctx)
	if err != nil {
		return 0, dst, err
	}
	c.mr.staleReaders()
	if err = c.waitMessage(); err == nil {
		if err = c.startMessage(); err == nil {
			dst, err = c.readRest(dst)
		}
	}
	typ := MessageType(c.rd.op)
	c.endRead(watched)
	if err != nil {
		return 0, dst, err
	}
	if nonNil && dst == nil {
		dst = []byte{}
	}
	return typ, dst, nil
}

// Reader waits for the next data message and returns its type and a reader
// of its payload, which returns io.EOF at the message's end. The reader is
// valid until the next call of Read, ReadAppend or Reader, which skips
// whatever is left of the message: after that it returns an error (never
// bytes of a later message). ctx governs the reads of the returned reader as well. Text is
// validated as it is read: invalid UTF-8 surfaces as an error of the
// reader's Read. The reader is not safe for concurrent use.
func (c *Conn) Reader(ctx context.Context) (MessageType, io.Reader, error) {
	watched, err := c.beginRead(ctx)
	if err != nil {
		return 0, nil, err
	}
	c.mr.staleReaders()
	if err = c.waitMessage(); err == nil {
		err = c.startMessage()
	}
	typ := MessageType(c.rd.op)
	var h *readerHandle
	if err == nil {
		c.mr.state = readerActive
		c.mr.ctx = ctx
		h = (*readerHandle)(c.rslab.get(c, c.mr.gen))
	}
	c.endRead(watched)
	if err != nil {
		return 0, nil, err
	}
	return typ, h, nil
}

const (
	readerStale  = iota // not attached to a message
	readerActive        // reading a message
	readerEOF           // the message was read to its end
)

// messageReader reads the message a Reader handle streams; one per Conn.
type messageReader struct {
	c     *Conn
	ctx   context.Context
	state uint8
	gen   uint64 // generation of the message (see handle)
}

// read reads payload bytes of the message of generation gen.
func (r *messageReader) read(gen uint64, p []byte) (int, error) {
	c := r.c
	watched, err := c.beginRead(r.ctx)
	if err != nil {
		return 0, err
	}
	var n int
	switch {
	case gen != r.gen || r.state == readerStale:
		err = errStaleReader
	case r.state == readerEOF:
		err = io.EOF
	default:
		if len(p) > 0 {
			n, err = c.readSome(p)
			if err == io.EOF {
				r.state = readerEOF
			}
		}
	}
	c.endRead(watched)
	return n, err
}

// lockRead acquires the read lock, giving up when ctx is done.
func (c *Conn) lockRead(ctx context.Context) error {
	select {
	case c.readLock <- struct{}{}:
		return nil
	default:
	}
	select {
	case c.readLock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.closed:
		return c.closedErr()
	}
}

// beginRead takes the read lock and arms ctx; endRead undoes both.
func (c *Conn) beginRead(ctx context.Context) (watched bool, err error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := c.lockRead(ctx); err != nil {
		return false, err
	}
	if ce := c.heldFailure(); ce != nil {
		<-c.readLock
		return false, ce
	}
	if ce := c.closeErr.Load(); ce != nil {
		<-c.readLock
		return false, ce
	}
	if ctx.Done() != nil {
		if err := ctx.Err(); err != nil {
			<-c.readLock
			return false, err
		}
		c.readDeadline.watch(ctx)
		watched = true
	}
	c.rd.ctx = ctx
	return watched, nil
}

func (c *Conn) endRead(watched bool) {
	if watched {
		c.readDeadline.release()
	}
	c.rd.ctx = nil
	<-c.readLock
}

// readError turns an error of the byte stream into the error to return:
// the final CloseError if the Conn is closed already; ctx.Err() if the read
// was cancelled, after failing the connection if part of a message or
// frame was read (see resumable); else the connection is lost: closed with
// a CloseError of code 1006.
func (c *Conn) readError(err error) error {
	if ce := c.closeErr.Load(); ce != nil {
		return ce
	}
	if ctx := c.rd.ctx; ctx != nil && ctx.Err() != nil {
		if c.resumable() {
			return ctx.Err()
		}
		c.shutdown(&CloseError{Code: StatusAbnormalClosure, Err: ctx.Err()})
		return ctx.Err()
	}
	if c.rd.noIdle {
		return err // Close is draining: it records the outcome itself
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF // the stream ended without a close frame
	}
	return c.shutdown(&CloseError{Code: StatusAbnormalClosure, Err: err})
}

// resumable reports whether the stream is between messages, with no frame
// partly read: bytes of a header that arrived stay buffered, so a read
// cancelled now can be resumed by the next one.
func (c *Conn) resumable() bool { return !c.rd.active && !c.rd.inCtrl && !c.rd.noIdle }

// idle applies ReadTimeout before a network read, then checks that the
// read was not cancelled meanwhile (a cancellation's past deadline must not
// be overwritten).
func (c *Conn) idle() error {
	if c.readTimeout <= 0 || c.rd.noIdle {
		return nil
	}
	_ = c.nc.SetReadDeadline(time.Now().Add(c.readTimeout))
	if ctx := c.rd.ctx; ctx != nil && ctx.Err() != nil {
		return c.readError(ctx.Err())
	}
	return nil
}

// startMessage skips what is left of a message being read, then reads
// frames up to the first frame of the next data message.
func (c *Conn) startMessage() error {
	for c.rd.active {
		if _, err := c.readSome(c.rd.ctrl[:]); err != nil {
			if err == io.EOF {
				break
			}
			return err
		}
	}
	return c.nextFrame(false)
}

// nextFrame reads frame headers until one starts a data message (cont
// false) or continues the current one (cont true), handling the control
// frames met on the way. Violations fail the connection.
func (c *Conn) nextFrame(cont bool) error {
	for {
		if c.rd.pongOwed {
			if err := c.replyPong(); err != nil {
				return err
			}
		}
		if err := c.idle(); err != nil {
			return err
		}
		h, err := c.br.readHeader()
		if err != nil {
			if errors.Is(err, framing.ErrProtocol) {
				return c.failFrame(StatusProtocolError, err)
			}
			return c.readError(err)
		}
		if err := h.Check(c.allowedRsv, !c.client); err != nil {
			return c.failFrame(StatusProtocolError, err)
		}
		if c.pmd != nil {
			if err := c.pmd.checkFrame(&h); err != nil {
				return c.failFrame(StatusProtocolError, err)
			}
		}
		if h.Opcode.IsControl() {
			if err := c.control(&h); err != nil {
				return err
			}
			continue
		}
		if c.rd.noIdle && c.closeSent.Load() {
			// Close is draining for the peer's close frame and nobody reads
			// messages: skip data. A reader still gets the messages the peer
			// sent before it saw our close frame (RFC 6455, 7.1.2).
			if err := c.discard(h.Length); err != nil {
				return err
			}
			continue
		}
		if isCont := h.Opcode == framing.OpContinuation; isCont != cont {
			if cont {
				return c.failFrame(StatusProtocolError, errExpectedContinuation)
			}
			return c.failFrame(StatusProtocolError, errUnexpectedContinuation)
		}
		if !cont {
			c.rd.op = h.Opcode
			c.rd.size = 0
			c.rd.utf8 = utf8Accept
		}
		if limit := c.readLimit.Load(); limit >= 0 && h.Length > limit-c.rd.size {
			c.rd.remaining = h.Length // what the peer still sends (see fail)
			return c.failFrame(StatusMessageTooBig, ErrMessageTooBig)
		}
		c.rd.active = true
		c.rd.size += h.Length
		c.rd.remaining = h.Length
		c.rd.frameLen = h.Length
		c.rd.fin = h.Fin
		c.rd.masked = h.Masked
		c.rd.key = h.Mask
		c.rd.pos = 0
		return nil
	}
}

// readSome reads payload bytes of the current message into p (len(p) > 0),
// crossing frame boundaries as needed. It returns io.EOF at the message's
// end, after checking that a text message ended on a character boundary.
func (c *Conn) readSome(p []byte) (int, error) {
	if c.pmd != nil && c.pmd.inflating {
		return c.inflateSome(p)
	}
	for c.rd.remaining == 0 {
		if !c.rd.active {
			return 0, io.EOF
		}
		if c.rd.fin {
			return 0, c.endMessage()
		}
		if err := c.nextFrame(true); err != nil {
			return 0, err
		}
	}
	return c.readPayload(p)
}

// endMessage marks the message read.
func (c *Conn) endMessage() error {
	c.rd.active = false
	if c.rd.op == framing.OpText && c.rd.utf8 != utf8Accept {
		return c.fail(StatusInvalidFramePayloadData, ErrInvalidUTF8)
	}
	return io.EOF
}

// readPayload reads at most len(p) bytes of the current frame's payload
// (remaining > 0), unmasks them and validates text.
func (c *Conn) readPayload(p []byte) (int, error) {
	if int64(len(p)) > c.rd.remaining {
		p = p[:c.rd.remaining]
	}
	if c.readTimeout > 0 && c.br.Buffered() == 0 {
		if err := c.idle(); err != nil {
			return 0, err
		}
	}
	n, err := c.br.payload(p)
	if n > 0 {
		b := p[:n]
		if c.rd.masked {
			c.rd.pos = framing.Mask(c.rd.key, c.rd.pos, b)
		}
		c.rd.remaining -= int64(n)
		if c.rd.op == framing.OpText {
			if c.rd.utf8 = utf8Feed(c.rd.utf8, b); c.rd.utf8 == utf8Reject {
				return n, c.fail(StatusInvalidFramePayloadData, ErrInvalidUTF8)
			}
		}
	}
	if err != nil && (n == 0 || err != io.EOF) {
		return n, c.readError(err)
	}
	return n, nil
}

// readRest appends the rest of the current message to dst.
func (c *Conn) readRest(dst []byte) ([]byte, error) {
	if c.pmd != nil && c.pmd.inflating {
		return c.inflateRest(dst)
	}
	for {
		if c.rd.remaining == 0 {
			if !c.rd.active {
				return dst, nil
			}
			if c.rd.fin {
				if err := c.endMessage(); err != io.EOF {
					return dst, err
				}
				return dst, nil
			}
			if err := c.nextFrame(true); err != nil {
				return dst, err
			}
			continue
		}
		if len(dst) == cap(dst) {
			if err := c.awaitPayload(); err != nil {
				return dst, err
			}
			if c.rd.remaining > maxPrealloc && c.rd.remaining == c.rd.frameLen {
				var err error
				if dst, err = c.stageLarge(dst); err != nil {
					return dst, err
				}
				continue
			}
			dst = grow(dst, c.rd.remaining, c.rd.remaining == c.rd.frameLen)
		}
		n, err := c.readPayload(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err != nil {
			return dst, err
		}
	}
}

// awaitPayload waits until payload bytes of the current frame are
// buffered, before memory is allocated for them.
func (c *Conn) awaitPayload() error {
	if c.rd.remaining == 0 || c.br.Buffered() > 0 {
		return nil
	}
	if err := c.idle(); err != nil {
		return err
	}
	if err := c.br.await(); err != nil {
		return c.readError(err)
	}
	return nil
}

// maxAmplify bounds how much memory a frame's bytes that really arrived
// can make a read allocate ahead of the rest (see stageLarge).
const maxAmplify = 16

// stageLarge starts reading a frame longer than maxPrealloc into a full
// dst: its first maxPrealloc bytes go into a pooled buffer, and only once
// they have all arrived (the peer has shown it sends) is dst grown, in
// one allocation, to hold the whole frame if it is at most maxAmplify
// times that (1 MiB), else maxAmplify times what arrived (grow takes over
// from there). Read of a message of up to 1 MiB in one frame thus
// allocates once, exactly its size, and a peer that announces a length
// and stalls makes the Conn hold at most one pooled 64 KiB buffer.
func (c *Conn) stageLarge(dst []byte) ([]byte, error) {
	bp := getStage()
	defer putStage(bp)
	stage := (*bp)[:maxPrealloc]
	k := 0
	for k < len(stage) {
		n, err := c.readPayload(stage[k:])
		k += n
		if err != nil {
			return dst, err
		}
	}
	frame := int64(k) + c.rd.remaining
	b := make([]byte, len(dst), int64(len(dst))+min(frame, maxAmplify*int64(k)))
	copy(b, dst)
	return append(b, stage[:k]...), nil
}

// stageStash keeps a few staging buffers (see stageLarge) out of reach of
// the garbage collector, which empties sync.Pools at every cycle: a
// program that reads large messages collects often, and a pool refilled
// after each cycle allocates. At most cap(stageStash) * 64 KiB are held;
// beyond them the write buffers' pool serves.
var stageStash = make(chan *[]byte, 2)

func getStage() *[]byte {
	select {
	case bp := <-stageStash:
		return bp
	default:
		return getBuf(maxPrealloc)
	}
}

func putStage(bp *[]byte) {
	select {
	case stageStash <- bp:
	default:
		putBuf(bp)
	}
}

// grow returns dst with room for more bytes: need (the rest of the current
// frame, already checked against the read limit) if it is at most
// maxPrealloc, else an amount proportional to what was already received,
// up to need. At the start of a frame of a fragmented message (double) the
// capacity at least doubles, so that many small fragments cost amortized
// constant time.
func grow(dst []byte, need int64, double bool) []byte {
	add := need
	if c := int64(cap(dst)); double && c > add {
		add = c
	}
	if need > maxPrealloc {
		add = min(max(int64(maxPrealloc), int64(len(dst))), need)
	}
	b := make([]byte, len(dst), int64(len(dst))+add)
	copy(b, dst)
	return b
}

// discard skips n payload bytes of a frame nobody will read.
func (c *Conn) discard(n int64) error {
	for n > 0 {
		if err := c.idle(); err != nil {
			return err
		}
		k := int(min(n, 1<<30))
		d, err := c.br.Discard(k)
		n -= int64(d)
		if err != nil {
			return c.readError(err)
		}
	}
	return nil
}

// control handles a control frame whose header was just read.
func (c *Conn) control(h *framing.Header) error {
	p := c.rd.ctrl[:h.Length]
	c.rd.inCtrl = true
	_, err := io.ReadFull(&c.br, p)
	if err != nil {
		return c.readError(err)
	}
	c.rd.inCtrl = false
	if h.Masked {
		framing.Mask(h.Mask, 0, p)
	}
	switch h.Opcode {
	case framing.OpPing:
		if !c.closeSent.Load() {
			// RFC 6455, 5.5.3: a pong answers the most recent ping.
			c.rd.pongLen = uint8(copy(c.rd.pong[:], p))
			c.rd.pongOwed = true
			err = c.replyPong()
		}
		if c.onPing != nil {
			c.onPing(p)
		}
		return err
	case framing.OpPong:
		c.gotPong()
		c.pongFor(p)
		if c.onPong != nil {
			c.onPong(p)
		}
	case framing.OpClose:
		return c.receivedClose(p)
	}
	return nil
}

// replyPong sends the pong owed, within ControlTimeout (or the connection
// fails). If the read's context ends the wait first, the pong stays owed
// (the next read sends it) and the read returns ctx.Err().
func (c *Conn) replyPong() error {
	ctx := c.rd.ctx
	err := c.sendReply(ctx, framing.OpPong, c.rd.pong[:c.rd.pongLen], c.ctrlTimeout)
	if err != nil && ctx != nil && err == ctx.Err() {
		return c.readError(err)
	}
	c.rd.pongOwed = false
	if err != nil && !errors.Is(err, ErrClosed) {
		return err
	}
	return nil
}

// receivedClose handles the peer's close frame: validates it, answers it
// unless this endpoint sent a close frame first, ends the connection and
// returns the final error.
func (c *Conn) receivedClose(p []byte) error {
	// Remote: the peer started the closing handshake (our close frame, if
	// any, went out after its own).
	ce := &CloseError{Code: StatusNoStatusRcvd, Received: true, Remote: !c.closeSent.Load()}
	switch {
	case len(p) == 1:
		return c.fail(StatusProtocolError, errCloseTooShort)
	case len(p) >= 2:
		ce.Code = StatusCode(binary.BigEndian.Uint16(p))
		if !validWireCode(ce.Code) {
			return c.fail(StatusProtocolError, errCloseCode)
		}
		if !validUTF8(p[2:]) {
			return c.fail(StatusInvalidFramePayloadData, ErrInvalidUTF8)
		}
		ce.Reason = string(p[2:])
	}
	if !ce.Remote {
		ce.local = c.closeCalled()
	}
	// Record the peer's close first (RFC 6455, 7.1.5: its code is the
	// connection close code), so that a failing reply (a peer that resets
	// right after its close frame) cannot replace it with 1006.
	c.closeErr.CompareAndSwap(nil, ce)
	// Echo the code (RFC 6455, 5.5.1), or an empty payload when the peer's
	// frame had no code: 1005 may not be sent. The reply waits at most
	// CloseTimeout for a frame being written.
	_ = c.sendReply(nil, framing.OpClose, p[:min(len(p), 2)], c.closeTimeout)
	if c.client {
		// RFC 6455, 7.1.1: the server closes TCP first; wait briefly for
		// its FIN so that the TIME_WAIT state lands on the server.
		_ = c.nc.SetReadDeadline(time.Now().Add(min(c.closeTimeout, maxFinWait)))
		for {
			if _, err := c.br.Read(c.rd.ctrl[:]); err != nil {
				break
			}
		}
	}
	return c.shutdown(ce)
}
