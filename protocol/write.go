package protocol

import (
	"context"
	"io"
	"time"

	"github.com/wslua/wslua/framing"
)

// Sending frames. Every frame reaches the network the same way: the sender
// takes the frame lock (lockFrame, a channel that can be waited on with a
// context), then put writes the frame's bytes. One rule covers failures:
//
//   - a failure before the first byte of a frame is written (the context is
//     done while waiting for a lock, or before the write) returns the error
//     and leaves the Conn as it was;
//   - a failure of the network write itself (an error, WriteTimeout, the
//     context cancelled during the write) may leave part of the frame on the
//     wire, so it fails the connection (code 1006 locally);
//   - a message sent in several frames (Writer, compressed output) fails the
//     connection if it cannot be finished once its first frame is out
//     (abortMessage): the peer must never see the frames of another message
//     continue it.

// Write sends p as one message of type typ, in a single frame: up to 1
// MiB of payload, built with its header in one reused or pooled buffer and
// handed to the network in one write; beyond, a server writes the payload
// as it is after its header and a client masks it piece by piece (a
// compressed message whose output outgrows the buffer goes out in several
// frames). It waits for a message being sent through a Writer to finish.
// p is not modified and may be reused when Write returns.
//
// If ctx is done before the first byte of the message is written, Write
// returns ctx.Err() and the Conn stays usable. If the message cannot be
// written whole once it began (ctx cancelled, WriteTimeout, a network
// error), the connection fails: Write returns the cause and every later
// call an error matching ErrClosed. After a close frame was sent, Write
// returns an error matching ErrClosed.
func (c *Conn) Write(ctx context.Context, typ MessageType, p []byte) error {
	ctx, op, err := c.beginMessage(ctx, typ)
	if err != nil {
		return err
	}
	if c.pmd == nil {
		// One frame, written under the frame lock: the message lock is
		// only needed while a Writer is sending a message (lockData).
		return c.sendData(ctx, op, true, p, true)
	}
	if err := c.lockWrite(ctx); err != nil {
		return err
	}
	if c.pmd.compressible(len(p)) {
		err = c.writeCompressed(ctx, op, p)
	} else {
		err = c.sendData(ctx, op, true, p, false)
	}
	<-c.writeLock
	return err
}

// Writer returns a writer for a message of type typ that is sent in
// fragments as it is written: the writer buffers up to WriteBufferSize
// bytes and sends them as a frame when the buffer is full (a Write at least
// that long on an empty buffer becomes one frame as it is), and Close sends
// the final frame. The Conn's message lock is held from Writer until Close,
// so other messages wait; control frames do not. Always Close the writer.
//
// ctx governs every frame written through it. If a frame cannot be sent
// once the message's first frame is out, the connection fails (see
// Write); before that, a cancelled ctx makes Write and Close return
// ctx.Err() and the Conn stays usable. The writer is valid until its Close:
// a writer used after that returns an error, even once a later message is
// being written. It is not safe for concurrent use.
func (c *Conn) Writer(ctx context.Context, typ MessageType) (io.WriteCloser, error) {
	ctx, op, err := c.beginMessage(ctx, typ)
	if err != nil {
		return nil, err
	}
	if err := c.lockWrite(ctx); err != nil {
		return nil, err
	}
	if c.pmd != nil {
		c.compressedWriter(ctx, op)
		return c.newWriterHandle(), nil
	}
	c.writerActive.Store(true) // from now on a Write waits for the message lock
	w := &c.mw
	w.ctx = ctx
	w.op = op
	w.n = 0
	w.sent = false
	w.err = nil
	w.active = true
	return c.newWriterHandle(), nil
}

// Ping sends a ping with the given payload (at most 125 bytes). The pong is
// reported to Options.OnPong by the reading goroutine; PingRTT sends a ping
// and waits for its pong. Ping does not wait
// for a message being written: it may go out between its frames. It waits
// for the frame being written, if any, at most until ctx is done.
func (c *Conn) Ping(ctx context.Context, payload []byte) error {
	return c.sendControl(ctx, framing.OpPing, payload, 0, time.Time{})
}

// Pong sends an unsolicited pong (a one-way heartbeat, RFC 6455 5.5.3).
// Pings are answered automatically; there is no need to call Pong for them.
func (c *Conn) Pong(ctx context.Context, payload []byte) error {
	return c.sendControl(ctx, framing.OpPong, payload, 0, time.Time{})
}

// beginMessage checks what every message write checks first, and returns
// the context to use (ctx, or Background for nil) and the opcode.
func (c *Conn) beginMessage(ctx context.Context, typ MessageType) (context.Context, framing.Opcode, error) {
	op, err := dataOpcode(typ)
	if err != nil {
		return ctx, 0, err
	}
	if c.closeSent.Load() {
		return ctx, 0, c.closedErr()
	}
	if ctx == nil {
		ctx = context.Background()
	}
	return ctx, op, nil
}

func dataOpcode(typ MessageType) (framing.Opcode, error) {
	switch typ {
	case MessageText:
		return framing.OpText, nil
	case MessageBinary:
		return framing.OpBinary, nil
	}
	return 0, errMessageType
}

// lockWrite acquires the message lock.
func (c *Conn) lockWrite(ctx context.Context) error {
	select {
	case c.writeLock <- struct{}{}:
		return nil
	default:
	}
	select {
	case c.writeLock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.closed:
		return c.closedErr()
	}
}

// lockFrame acquires the frame lock, giving up when ctx (may be nil) is
// done, when the Conn is closed, or after wait if wait is positive
// (errControlTimeout).
func (c *Conn) lockFrame(ctx context.Context, wait time.Duration) error {
	if c.frameLock.tryLock() {
		return nil
	}
	return c.waitFrame(ctx, wait)
}

// waitFrame is lockFrame when the lock is held: it waits for a wake-up.
func (c *Conn) waitFrame(ctx context.Context, wait time.Duration) error {
	l := &c.frameLock
	var done <-chan struct{}
	if ctx != nil {
		done = ctx.Done()
	}
	var expired <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		expired = t.C
	}
	l.waiters.Add(1)
	defer l.waiters.Add(-1)
	for !l.tryLock() {
		select {
		case <-l.wake:
		case <-done:
			return ctx.Err()
		case <-c.closed:
			return c.closedErr()
		case <-expired:
			return errControlTimeout
		}
	}
	return nil
}

func (c *Conn) unlockFrame() { c.frameLock.unlock() }

// lockData takes the frame lock to write a data frame. A Write that does
// not hold the message lock (unlocked) must not slip between the frames of
// a Writer's message: if a Writer is active, lockData waits for the
// message lock as such a Write always did, and reports that it holds it.
// The check and the frame's write happen under one hold of the frame lock,
// and a Writer sends each of its frames under the frame lock, so a Write
// that saw no Writer active goes out whole before that Writer's first
// frame.
func (c *Conn) lockData(ctx context.Context, unlocked bool) (msgLock bool, err error) {
	if err := c.lockFrame(ctx, 0); err != nil {
		return false, err
	}
	if !unlocked || !c.writerActive.Load() {
		return false, nil
	}
	c.unlockFrame()
	if err := c.lockWrite(ctx); err != nil {
		return false, err
	}
	if err := c.lockFrame(ctx, 0); err != nil { // no Writer is active now
		<-c.writeLock
		return false, err
	}
	return true, nil
}

// unlockData releases what lockData took.
func (c *Conn) unlockData(msgLock bool) {
	c.unlockFrame()
	if msgLock {
		<-c.writeLock
	}
}

// sendData sends one data frame whose payload p is in the caller's memory;
// unlocked tells that the caller does not hold the message lock (see
// lockData). Small frames are built in the control buffer under the frame
// lock, larger ones up to maxPooledPayload in a pooled buffer before it is
// taken, so that the whole frame goes out in one write; a server sends a
// payload too large for a pooled buffer as it is after its header
// (vectored), a client masks one piece by piece.
//
// A frame handed to the kernel in one piece costs far less than the same
// bytes in two, even in one writev: on Linux loopback a 64 KiB echo took
// 90 µs per round trip with header and payload vectored and 60 µs copied
// together (bench: Echo64K, Echo1M 1.07 ms -> 0.89 ms), the copy costing
// less than what it saves.
func (c *Conn) sendData(ctx context.Context, op framing.Opcode, fin bool, p []byte, unlocked bool) error {
	h := c.frameHeader(op, fin, len(p))
	small := c.fitsCtrlBuf(&h)
	vectored := !small && !c.client && len(p) > maxPooledPayload
	var bp *[]byte
	var frame []byte
	if !small && !vectored {
		if bp = getBuf(hdrRoom + len(p)); bp != nil {
			frame = c.putPooledFrame(bp, &h, p)
		}
	}
	msgLock, err := c.lockData(ctx, unlocked)
	if err == nil {
		switch {
		case c.closeSent.Load():
			err = c.closedErr()
		case small:
			err = c.put(ctx, time.Time{}, c.putFrame(c.ctrlBuf[:], &h, p), nil)
		case vectored:
			err = c.put(ctx, time.Time{}, c.hdrBuf[:h.Put(c.hdrBuf[:])], p)
		case bp != nil:
			err = c.put(ctx, time.Time{}, frame, nil)
		default:
			err = c.putMaskedPieces(ctx, &h, p)
		}
		c.unlockData(msgLock)
	}
	if bp != nil {
		putBuf(bp)
	}
	return err
}

// sendBuffered sends the frame of h whose payload fills b[room:room+n]: the
// header goes just before it, a client's payload is masked in place. The
// caller holds the message lock.
func (c *Conn) sendBuffered(ctx context.Context, h *framing.Header, b []byte, room int) error {
	n := int(h.Length)
	if c.client {
		framing.Mask(h.Mask, 0, b[room:room+n])
	}
	start := room - h.Size()
	h.Put(b[start:])
	if err := c.lockFrame(ctx, 0); err != nil {
		return err
	}
	var err error
	if c.closeSent.Load() {
		err = c.closedErr()
	} else {
		err = c.put(ctx, time.Time{}, b[start:room+n], nil)
	}
	c.unlockFrame()
	return err
}

// putMaskedPieces writes a client frame too large for one pooled buffer:
// the payload is masked into the largest buffer piece by piece. The caller
// holds the frame lock.
func (c *Conn) putMaskedPieces(ctx context.Context, h *framing.Header, p []byte) error {
	bp := getBuf(maxPooledPayload)
	defer putBuf(bp)
	b := *bp
	watched, err := c.beginWrite(ctx, time.Time{})
	if err != nil {
		return err
	}
	n := h.Put(b[hdrRoom-h.Size():])
	pos := 0
	for len(p) > 0 && err == nil {
		k := min(len(p), len(b)-hdrRoom)
		pos = framing.MaskCopy(b[hdrRoom:], p[:k], h.Mask, pos)
		_, err = c.nc.Write(b[hdrRoom-n : hdrRoom+k])
		p = p[k:]
		n = 0
	}
	return c.endWrite(ctx, watched, err)
}

// sendControl sends a control frame; it does not take the message lock.
// wait, if positive, bounds the wait for the frame lock besides ctx (which
// may be nil); deadline, if not zero, bounds the write instead of
// WriteTimeout. Sending a close frame marks the Conn as closing: no frame
// follows it.
func (c *Conn) sendControl(ctx context.Context, op framing.Opcode, p []byte, wait time.Duration, deadline time.Time) error {
	if len(p) > framing.MaxControlPayload {
		return errControlTooLong
	}
	if ctx != nil {
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if err := c.lockFrame(ctx, wait); err != nil {
		return err
	}
	defer c.unlockFrame()
	if c.closeSent.Load() {
		return errCloseInProgress
	}
	h := c.frameHeader(op, true, len(p))
	b := c.putFrame(c.ctrlBuf[:], &h, p)
	if op == framing.OpClose {
		// Before the write: once the peer can have seen the close frame,
		// the reader must treat data frames as arriving after it.
		c.closeSent.Store(true)
	}
	return c.put(ctx, deadline, b, nil)
}

// sendReply sends a control frame the Conn owes the peer (a pong, a close
// reply, a keepalive ping): its wait for the frame lock and its write are
// bounded by limit. If the frame cannot be sent within it (a write of ours
// holds the frame lock because the peer stopped reading), the connection
// fails. ctx, if not nil, may end the wait for the frame lock earlier;
// that error is returned as is, nothing sent.
func (c *Conn) sendReply(ctx context.Context, op framing.Opcode, p []byte, limit time.Duration) error {
	err := c.sendControl(ctx, op, p, limit, time.Now().Add(limit))
	if err == errControlTimeout {
		return c.shutdown(&CloseError{Code: StatusAbnormalClosure, Err: errControlTimeout})
	}
	return err
}

// put writes a, then b if not empty, to the network: the bytes of one
// frame. The caller holds the frame lock. A failure of the write fails the
// connection (see the rule above); a ctx done before it returns ctx.Err().
func (c *Conn) put(ctx context.Context, deadline time.Time, a, b []byte) error {
	watched, err := c.beginWrite(ctx, deadline)
	if err != nil {
		return err
	}
	switch {
	case len(b) == 0:
		_, err = c.nc.Write(a)
	case c.canWritev:
		c.vecArr = [2][]byte{a, b}
		c.vec = c.vecArr[:]
		_, err = c.vec.WriteTo(c.nc)
		c.vecArr = [2][]byte{}
		c.vec = nil
	default:
		if _, err = c.nc.Write(a); err == nil {
			_, err = c.nc.Write(b)
		}
	}
	return c.endWrite(ctx, watched, err)
}

// beginWrite sets the write deadline (deadline if not zero, else
// WriteTimeout from now, if any) and arms ctx.
func (c *Conn) beginWrite(ctx context.Context, deadline time.Time) (watched bool, err error) {
	if deadline.IsZero() && c.writeTimeout > 0 {
		deadline = time.Now().Add(c.writeTimeout)
	}
	if !deadline.IsZero() {
		_ = c.nc.SetWriteDeadline(deadline)
	}
	if ctx != nil && ctx.Done() != nil {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		c.writeDeadline.watch(ctx)
		return true, nil
	}
	return false, nil
}

// endWrite ends what beginWrite began; a write error fails the
// connection.
func (c *Conn) endWrite(ctx context.Context, watched bool, err error) error {
	if watched {
		c.writeDeadline.release()
	}
	if err != nil {
		return c.writeError(ctx, err)
	}
	return nil
}

// writeError closes the connection after a failed write (part of a frame
// may have been sent) and returns the error to report.
func (c *Conn) writeError(ctx context.Context, err error) error {
	if ce := c.closeErr.Load(); ce != nil {
		return ce
	}
	if ctx != nil && ctx.Err() != nil {
		return c.abortMessage(ctx.Err())
	}
	return c.shutdown(&CloseError{Code: StatusAbnormalClosure, Err: err})
}

// abortMessage fails the connection because a message that began on the
// wire cannot be finished, and returns the error to report: err, or the
// final error if the Conn was closed already.
func (c *Conn) abortMessage(err error) error {
	if ce := c.closeErr.Load(); ce != nil {
		return ce
	}
	c.shutdown(&CloseError{Code: StatusAbnormalClosure, Err: err})
	return err
}

// messageWriter is the io.WriteCloser Writer returns; one per Conn.
type messageWriter struct {
	c      *Conn
	ctx    context.Context
	op     framing.Opcode // opcode of the next frame
	bp     *[]byte        // pooled buffer: header room, then n payload bytes
	n      int
	sent   bool  // a frame of the message is on the wire
	err    error // the first error: the message cannot go on
	active bool
}

// Write buffers p, sending full buffers as non-final frames.
func (w *messageWriter) Write(p []byte) (int, error) {
	if !w.active {
		return 0, errWriterClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	c := w.c
	total := len(p)
	for len(p) > 0 {
		if w.n == 0 && len(p) >= c.writeBufSize {
			if err := w.frame(c.sendData(w.ctx, w.op, false, p, false)); err != nil {
				return 0, err
			}
			return total, nil
		}
		if w.bp == nil {
			w.bp = getBuf(hdrRoom + c.writeBufSize)
		}
		k := copy((*w.bp)[hdrRoom+w.n:hdrRoom+c.writeBufSize], p)
		w.n += k
		p = p[k:]
		if w.n == c.writeBufSize {
			if err := w.flush(false); err != nil {
				return total - len(p), err
			}
		}
	}
	return total, nil
}

// frame records the outcome of sending a frame of the message: after a
// failure, the connection fails if an earlier frame is on the wire.
func (w *messageWriter) frame(err error) error {
	if err != nil {
		if w.sent {
			err = w.c.abortMessage(err)
		}
		w.err = err
		return err
	}
	w.sent = true
	w.op = framing.OpContinuation
	return nil
}

// flush sends the buffered bytes as a frame.
func (w *messageWriter) flush(fin bool) error {
	c := w.c
	if w.bp == nil {
		// Nothing buffered since the last frame: an empty final frame.
		return w.frame(c.sendData(w.ctx, w.op, fin, nil, false))
	}
	h := c.frameHeader(w.op, fin, w.n)
	err := c.sendBuffered(w.ctx, &h, *w.bp, hdrRoom)
	w.n = 0
	return w.frame(err)
}

// Close sends the final frame and releases the message lock.
func (w *messageWriter) Close() error {
	if !w.active {
		return errWriterClosed
	}
	err := w.err
	if err == nil {
		err = w.flush(true)
	}
	if w.bp != nil {
		putBuf(w.bp)
		w.bp = nil
	}
	w.active = false
	w.ctx = nil
	c := w.c
	c.writerActive.Store(false)
	<-c.writeLock
	return err
}

// frameHeader returns the header of a frame of n payload bytes sent by
// this end: masked with a fresh key when this end is a client.
func (c *Conn) frameHeader(op framing.Opcode, fin bool, n int) framing.Header {
	h := framing.Header{Fin: fin, Opcode: op, Length: int64(n), Masked: c.client}
	if c.client {
		h.Mask = newMaskKey()
	}
	return h
}

// fitsCtrlBuf reports whether the frame of h fits the control frame
// buffer.
func (c *Conn) fitsCtrlBuf(h *framing.Header) bool {
	return h.Size()+int(h.Length) <= len(c.ctrlBuf)
}

// putFrame builds the frame of h and payload p at the start of b (masking
// p for a client) and returns it.
func (c *Conn) putFrame(b []byte, h *framing.Header, p []byte) []byte {
	hs := h.Put(b)
	if c.client {
		framing.MaskCopy(b[hs:], p, h.Mask, 0)
	} else {
		copy(b[hs:], p)
	}
	return b[:hs+len(p)]
}

// putPooledFrame builds the frame in the pooled buffer bp, its payload at
// hdrRoom (8-byte aligned) and the header just before, and returns it.
func (c *Conn) putPooledFrame(bp *[]byte, h *framing.Header, p []byte) []byte {
	return c.putFrame((*bp)[hdrRoom-h.Size():], h, p)
}
