package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
	"unicode/utf8"

	"github.com/wslua/wslua/framing"
)

// Close performs the closing handshake (RFC 6455, section 7): it sends a
// close frame with code and reason, waits for the peer's close frame, then
// closes the network connection. The wait is bounded by CloseTimeout (which
// also bounds the close frame's write). It works whether or not another
// goroutine is reading: a reader blocked in Read sees the peer's close frame
// and returns a *CloseError; if nobody reads, Close reads itself, handling
// control frames and discarding data frames until the close frame comes.
// With Options.DedicatedReader, Close never reads: the reader loop gets
// every data message that precedes the peer's close frame, and Close waits
// for it to meet that frame, at most CloseTimeout.
//
// code must be one that may be sent (1000-1003, 1007-1014, 3000-4999) and
// reason at most 123 bytes of UTF-8; otherwise Close returns an error
// (matching ErrInvalidCloseCode or ErrInvalidUTF8) and sends nothing.
//
// Close returns nil once its close frame was sent, whether the peer
// answered within CloseTimeout or not (Read tells which: a *CloseError with
// Remote true carrying the peer's code, or one with Remote false carrying
// this code and, after a timeout, an Err matching os.ErrDeadlineExceeded).
// It returns ErrClosed if the Conn was already closed or closing: a second
// or concurrent call waits (at most CloseTimeout) for the first one to
// finish and returns ErrClosed, and so does Close after the peer started the
// handshake (the reply is sent automatically by the reader).
func (c *Conn) Close(code StatusCode, reason string) error {
	if !validWireCode(code) {
		return fmt.Errorf("%w: %d", ErrInvalidCloseCode, int(code))
	}
	if len(reason) > maxCloseReason {
		return errReasonTooLong
	}
	if !utf8.ValidString(reason) {
		return ErrInvalidUTF8
	}
	c.closeMu.Lock()
	first := !c.closing
	c.closing = true
	c.closeMu.Unlock()
	if !first || c.closeErr.Load() != nil {
		c.waitClosed()
		return ErrClosed
	}

	deadline := time.Now().Add(c.closeTimeout)
	var payload [2 + maxCloseReason]byte
	binary.BigEndian.PutUint16(payload[:], uint16(code))
	n := 2 + copy(payload[2:], reason)
	// A writer stuck in a network write holds the frame lock: bound it.
	_ = c.nc.SetWriteDeadline(deadline)
	if err := c.writeControl(nil, framing.OpClose, payload[:n], deadline); err != nil {
		if err == errCloseInProgress {
			// The peer's close frame came first and was answered, or the
			// connection was failed meanwhile.
			c.waitClosed()
			return ErrClosed
		}
		return err // the write failed: the connection is closed
	}

	cause := error(errCloseTimeout)
	timer := time.NewTimer(time.Until(deadline))
	readLock := c.readLock
	if c.dedicated {
		readLock = nil // the reader loop reads the reply: never take its lock
	}
	select {
	case <-c.closed:
	case <-timer.C:
	case readLock <- struct{}{}:
		// Nobody is reading: read the peer's answer here.
		if c.rd.broken != nil {
			cause = nil // a cancelled read left the stream unusable
		} else if err := c.drain(deadline); err != nil && !isTimeout(err) {
			cause = err // the peer ended the connection without answering
		}
		// Shut down before a waiting reader gets the lock and meets the
		// drain's expired deadline.
		c.shutdown(&CloseError{Code: code, Reason: reason, Err: cause})
		c.rd.noIdle = false
		<-c.readLock
	}
	timer.Stop()
	c.shutdown(&CloseError{Code: code, Reason: reason, Err: cause})
	return nil
}

// drain reads until the peer's close frame (which ends the connection), an
// error or the deadline, and returns the error that stopped it. The caller
// holds the read lock.
func (c *Conn) drain(deadline time.Time) error {
	if c.closeErr.Load() != nil {
		return nil
	}
	_ = c.nc.SetReadDeadline(deadline)
	c.rd.noIdle = true
	c.mr.state = readerStale
	if c.rd.remaining > 0 {
		if err := c.discard(c.rd.remaining); err != nil {
			return err
		}
		c.rd.remaining = 0
	}
	err := c.nextFrame(false) // data frames are skipped once a close frame was sent
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// isTimeout reports whether err is a network timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// waitClosed waits, at most CloseTimeout, for the network connection to be
// closed by whoever is closing it.
func (c *Conn) waitClosed() {
	t := time.NewTimer(c.closeTimeout)
	select {
	case <-c.closed:
	case <-t.C:
	}
	t.Stop()
}

// CloseNow closes the network connection at once, without a close frame.
// Blocked calls return; Read then returns a *CloseError with code 1006 and
// Err ErrClosed. It returns ErrClosed if the Conn was already closed.
func (c *Conn) CloseNow() error {
	ce := &CloseError{Code: StatusAbnormalClosure, Err: ErrClosed}
	if !c.closeErr.CompareAndSwap(nil, ce) {
		c.closeOnce.Do(c.closeNet)
		return ErrClosed
	}
	c.closeOnce.Do(c.closeNet)
	return nil
}

// fail fails the connection (RFC 6455, 7.1.7) because of cause: it sends a
// close frame with code and a short reason (best effort, within a bounded
// time, unless a close frame was sent already), closes the network
// connection and returns the final error.
func (c *Conn) fail(code StatusCode, cause error) error {
	reason := failReason(cause)
	ce := &CloseError{Code: code, Reason: reason, Err: cause}
	if !c.closeErr.CompareAndSwap(nil, ce) {
		return c.closeErr.Load()
	}
	if !c.closeSent.Load() {
		deadline := time.Now().Add(min(c.closeTimeout, maxFinWait))
		_ = c.nc.SetWriteDeadline(deadline)
		var payload [2 + maxCloseReason]byte
		binary.BigEndian.PutUint16(payload[:], uint16(code))
		n := 2 + copy(payload[2:], reason)
		_ = c.writeControl(nil, framing.OpClose, payload[:n], deadline)
	}
	return c.shutdown(ce)
}
