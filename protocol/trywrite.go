package protocol

import (
	"syscall"
	"time"
)

// maxTryWrite bounds the messages TryWrite attempts: larger ones are unlikely
// to fit the socket's free buffer space, and Write sends them as well.
const maxTryWrite = 64 << 10

// TryWrite sends p as one message of type typ only if it can be done at
// once, without waiting for a lock or for the network. It is for callers
// that must not block, such as an event loop or a script scheduler, and
// that hand the message to Write, on a goroutine that may block, when
// TryWrite declines.
//
// It reports sent == false, with nothing sent, when the message would have
// to wait: another frame or a Writer's message is being written, the
// message would be compressed or is larger than 64 KiB, the network
// connection offers no non-blocking write (TLS connections, for one), or
// the socket's send buffer is full. Errors are only those Write returns at
// once (an unknown message type, a closed connection); other failures are
// left for Write to report.
//
// If the socket takes part of the frame, TryWrite reports sent == true and
// the connection writes the rest in the background, ahead of any other
// frame and within WriteTimeout; a failure to do so closes the connection,
// as a failed Write does, and later calls report it. p may be reused when
// TryWrite returns.
func (c *Conn) TryWrite(typ MessageType, p []byte) (sent bool, err error) {
	op, err := dataOpcode(typ)
	if err != nil {
		return false, err
	}
	if c.closeSent.Load() || c.closeErr.Load() != nil {
		return false, c.closedErr()
	}
	if len(p) > maxTryWrite || c.pmd != nil {
		return false, nil
	}
	if !c.frameLock.tryLock() {
		return false, nil
	}
	if c.writerActive.Load() || c.closeSent.Load() || !c.rawWritable() {
		c.unlockFrame()
		return false, nil
	}
	h := c.frameHeader(op, true, len(p))
	var b []byte
	var bp *[]byte
	if c.fitsCtrlBuf(&h) {
		b = c.putFrame(c.ctrlBuf[:], &h, p) // guarded by the frame lock, like every small frame
	} else {
		bp = getBuf(hdrRoom + len(p))
		b = c.putPooledFrame(bp, &h, p)
	}
	n := c.tryWriteRaw(b)
	switch {
	case n == len(b), n <= 0:
		c.unlockFrame()
		if bp != nil {
			putBuf(bp)
		}
		return n > 0, nil
	}
	// Part of the frame is out: the rest must follow before any other
	// frame, so the frame lock passes to the goroutine that writes it.
	rest := b[n:]
	go func() {
		_ = c.put(nil, time.Time{}, rest, nil)
		c.unlockFrame()
		if bp != nil {
			putBuf(bp)
		}
	}()
	return true, nil
}

// rawWritable reports whether the network connection offers the
// non-blocking writes TryWrite needs, looking it up once. The caller holds
// the frame lock.
func (c *Conn) rawWritable() bool {
	if !c.rawChecked {
		c.rawChecked = true
		if sc, ok := c.nc.(syscall.Conn); ok && rawWriteSupported {
			if rc, err := sc.SyscallConn(); err == nil {
				c.raw = rc
			}
		}
	}
	return c.raw != nil
}
