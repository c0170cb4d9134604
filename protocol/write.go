package protocol

import (
	"context"
	"io"
	"time"

	"github.com/wslua/wslua/framing"
)

// vectorMin is the payload size from which a server writes header and
// payload with one vectored write instead of copying them together.
const vectorMin = 16 << 10

// Write sends p as one message of type typ, in a single frame built with
// its header in one reused buffer and handed to the network in one write.
// It waits for a message being sent through a Writer to finish. p is not
// modified and may be reused when Write returns.
//
// If ctx is done before the frame is written, Write returns ctx.Err(); if
// it is cancelled or WriteTimeout expires while the frame is being written,
// the frame may be cut short, so the connection is closed. After that, or
// after a close frame was sent, Write returns an error matching ErrClosed.
func (c *Conn) Write(ctx context.Context, typ MessageType, p []byte) error {
	op, err := dataOpcode(typ)
	if err != nil {
		return err
	}
	if c.closeSent.Load() {
		return c.closedErr()
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if c.pmd == nil {
		// One frame, written under the frame lock: the message lock is
		// only needed while a Writer is sending a message (lockFrame).
		return c.sendFrame(ctx, op, true, p, true)
	}
	if err := c.lockWrite(ctx); err != nil {
		return err
	}
	if c.pmd.compressible(len(p)) {
		err = c.writeCompressed(ctx, op, p)
	} else {
		err = c.writeFrame(ctx, op, true, p)
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
// The writer is owned by the Conn and reused for every message: it is
// valid until its Close. ctx governs every frame written through it. It is
// not safe for concurrent use.
func (c *Conn) Writer(ctx context.Context, typ MessageType) (io.WriteCloser, error) {
	op, err := dataOpcode(typ)
	if err != nil {
		return nil, err
	}
	if c.closeSent.Load() {
		return nil, c.closedErr()
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if err := c.lockWrite(ctx); err != nil {
		return nil, err
	}
	if c.pmd != nil {
		return c.compressedWriter(ctx, op), nil
	}
	c.frameMu.Lock()
	c.writerActive = true // from now on a Write waits for the message lock
	c.frameMu.Unlock()
	w := &c.mw
	w.ctx = ctx
	w.op = op
	w.n = 0
	w.active = true
	return w, nil
}

// Ping sends a ping with the given payload (at most 125 bytes). The pong is
// reported to Options.OnPong by the reading goroutine. Ping does not wait
// for a message being written: it may go out between its frames.
func (c *Conn) Ping(ctx context.Context, payload []byte) error {
	return c.writeControl(ctx, framing.OpPing, payload, time.Time{})
}

// Pong sends an unsolicited pong (a one-way heartbeat, RFC 6455 5.5.3).
// Pings are answered automatically; there is no need to call Pong for them.
func (c *Conn) Pong(ctx context.Context, payload []byte) error {
	return c.writeControl(ctx, framing.OpPong, payload, time.Time{})
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

// writeFrame sends one data frame. The caller holds the message lock.
func (c *Conn) writeFrame(ctx context.Context, op framing.Opcode, fin bool, p []byte) error {
	return c.sendFrame(ctx, op, fin, p, false)
}

// lockFrame takes the frame lock to write a data frame. A Write that does
// not hold the message lock (unlocked) must not slip between the frames of
// a Writer's message: if a Writer is active, lockFrame waits for the
// message lock as such a Write always did, and reports that it holds it.
// Writers set writerActive under the frame lock, so the check is exact.
func (c *Conn) lockFrame(ctx context.Context, unlocked bool) (msgLock bool, err error) {
	c.frameMu.Lock()
	if !unlocked || !c.writerActive {
		return false, nil
	}
	c.frameMu.Unlock()
	if err := c.lockWrite(ctx); err != nil {
		return false, err
	}
	c.frameMu.Lock() // no Writer is active while the message lock is held
	return true, nil
}

// unlockFrame releases what lockFrame took.
func (c *Conn) unlockFrame(msgLock bool) {
	c.frameMu.Unlock()
	if msgLock {
		<-c.writeLock
	}
}

// sendFrame sends one data frame; unlocked tells that the caller does not
// hold the message lock (see lockFrame).
func (c *Conn) sendFrame(ctx context.Context, op framing.Opcode, fin bool, p []byte, unlocked bool) error {
	h := c.frameHeader(op, fin, len(p))
	if !c.client && len(p) >= vectorMin && (c.canWritev || len(p) > maxPooledPayload) {
		return c.writeVectored(ctx, &h, p, unlocked)
	}
	if c.fitsCtrlBuf(&h) {
		// A small frame is built in the control frame buffer, under the
		// frame lock that guards it: no pooled buffer to get and put back.
		msgLock, err := c.lockFrame(ctx, unlocked)
		if err != nil {
			return err
		}
		err = c.writeLocked(ctx, c.putFrame(c.ctrlBuf[:], &h, p), time.Time{})
		c.unlockFrame(msgLock)
		return err
	}
	bp := getBuf(hdrRoom + len(p))
	if bp == nil {
		return c.writeMaskedPieces(ctx, &h, p, unlocked)
	}
	b := c.putPooledFrame(bp, &h, p)
	msgLock, err := c.lockFrame(ctx, unlocked)
	if err == nil {
		err = c.writeLocked(ctx, b, time.Time{})
		c.unlockFrame(msgLock)
	}
	putBuf(bp)
	return err
}

// writeVectored sends a server frame without copying its payload: one
// writev where the connection supports it, else two writes.
func (c *Conn) writeVectored(ctx context.Context, h *framing.Header, p []byte, unlocked bool) error {
	msgLock, err := c.lockFrame(ctx, unlocked)
	if err != nil {
		return err
	}
	defer c.unlockFrame(msgLock)
	if c.closeSent.Load() {
		return c.closedErr()
	}
	watched, err := c.beginWrite(ctx, time.Time{})
	if err != nil {
		return err
	}
	hdr := c.hdrBuf[:h.Put(c.hdrBuf[:])]
	if c.canWritev {
		c.vecArr = [2][]byte{hdr, p}
		c.vec = c.vecArr[:]
		_, err = c.vec.WriteTo(c.nc)
		c.vecArr = [2][]byte{}
		c.vec = nil
	} else if _, err = c.nc.Write(hdr); err == nil {
		_, err = c.nc.Write(p)
	}
	if watched {
		c.writeDeadline.release()
	}
	if err != nil {
		return c.writeError(ctx, err)
	}
	return nil
}

// writeMaskedPieces sends a client frame too large for one pooled buffer:
// the payload is masked into the largest buffer piece by piece.
func (c *Conn) writeMaskedPieces(ctx context.Context, h *framing.Header, p []byte, unlocked bool) error {
	bp := getBuf(maxPooledPayload)
	defer putBuf(bp)
	b := *bp
	msgLock, err := c.lockFrame(ctx, unlocked)
	if err != nil {
		return err
	}
	defer c.unlockFrame(msgLock)
	if c.closeSent.Load() {
		return c.closedErr()
	}
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
	if watched {
		c.writeDeadline.release()
	}
	if err != nil {
		return c.writeError(ctx, err)
	}
	return nil
}

// writeControl sends a control frame. It does not take the message lock.
// Sending a close frame marks the Conn as closing: no frame follows it.
func (c *Conn) writeControl(ctx context.Context, op framing.Opcode, p []byte, deadline time.Time) error {
	if len(p) > framing.MaxControlPayload {
		return errControlTooLong
	}
	if ctx != nil {
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	c.frameMu.Lock()
	defer c.frameMu.Unlock()
	h := c.frameHeader(op, true, len(p))
	b := c.putFrame(c.ctrlBuf[:], &h, p)
	if c.closeSent.Load() {
		return errCloseInProgress
	}
	if op == framing.OpClose {
		// Before the write: once the peer can have seen the close frame,
		// the reader must treat data frames as arriving after it.
		c.closeSent.Store(true)
	}
	return c.writeNet(ctx, b, deadline)
}

// writeLocked writes b, one or more whole frames, to the network. The
// caller holds frameMu.
func (c *Conn) writeLocked(ctx context.Context, b []byte, deadline time.Time) error {
	if c.closeSent.Load() {
		return c.closedErr()
	}
	return c.writeNet(ctx, b, deadline)
}

// writeNet is writeLocked without the check for a sent close frame.
func (c *Conn) writeNet(ctx context.Context, b []byte, deadline time.Time) error {
	watched, err := c.beginWrite(ctx, deadline)
	if err != nil {
		return err
	}
	_, err = c.nc.Write(b)
	if watched {
		c.writeDeadline.release()
	}
	if err != nil {
		return c.writeError(ctx, err)
	}
	return nil
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

// writeError closes the connection after a failed write (part of a frame
// may have been sent) and returns the error to report.
func (c *Conn) writeError(ctx context.Context, err error) error {
	if ce := c.closeErr.Load(); ce != nil {
		return ce
	}
	if ctx != nil && ctx.Err() != nil {
		c.shutdown(&CloseError{Code: StatusAbnormalClosure, Err: ctx.Err()})
		return ctx.Err()
	}
	return c.shutdown(&CloseError{Code: StatusAbnormalClosure, Err: err})
}

// messageWriter is the io.WriteCloser Writer returns; one per Conn.
type messageWriter struct {
	c      *Conn
	ctx    context.Context
	op     framing.Opcode // opcode of the next frame
	bp     *[]byte        // pooled buffer: header room, then n payload bytes
	n      int
	active bool
}

// Write buffers p, sending full buffers as non-final frames.
func (w *messageWriter) Write(p []byte) (int, error) {
	if !w.active {
		return 0, errWriterClosed
	}
	c := w.c
	total := len(p)
	for len(p) > 0 {
		if w.n == 0 && len(p) >= c.writeBufSize {
			if err := c.writeFrame(w.ctx, w.op, false, p); err != nil {
				return total - len(p), err
			}
			w.op = framing.OpContinuation
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

// flush sends the buffered bytes as a frame.
func (w *messageWriter) flush(fin bool) error {
	c := w.c
	var payload []byte
	if w.bp != nil {
		payload = (*w.bp)[hdrRoom : hdrRoom+w.n]
	}
	if w.bp == nil {
		// Nothing buffered since the last frame: an empty final frame.
		err := c.writeFrame(w.ctx, w.op, fin, payload)
		w.n = 0
		w.op = framing.OpContinuation
		return err
	}
	h := c.frameHeader(w.op, fin, w.n)
	if c.client {
		framing.Mask(h.Mask, 0, payload)
	}
	start := hdrRoom - h.Size()
	h.Put((*w.bp)[start:])
	c.frameMu.Lock()
	err := c.writeLocked(w.ctx, (*w.bp)[start:hdrRoom+w.n], time.Time{})
	c.frameMu.Unlock()
	w.n = 0
	w.op = framing.OpContinuation
	return err
}

// Close sends the final frame and releases the message lock.
func (w *messageWriter) Close() error {
	if !w.active {
		return errWriterClosed
	}
	err := w.flush(true)
	if w.bp != nil {
		putBuf(w.bp)
		w.bp = nil
	}
	w.active = false
	w.ctx = nil
	w.c.frameMu.Lock()
	w.c.writerActive = false
	w.c.frameMu.Unlock()
	<-w.c.writeLock
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
