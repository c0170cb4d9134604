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
// closes the network connection. The whole is bounded by CloseTimeout: the
// wait to send the close frame behind a frame being written, its write, and
// the wait for the answer. It works whether or not another goroutine is
// reading: a reader blocked in Read sees the peer's close frame and returns
// a *CloseError; if nobody reads, Close reads itself, handling control
// frames and discarding data frames until the close frame comes. With
// Options.DedicatedReader, Close never reads: the reader loop gets every
// data message that precedes the peer's close frame, and Close waits for it
// to meet that frame, at most CloseTimeout.
//
// When Close returns, the network connection is closed and every call
// blocked on the Conn returns (or is returning): whatever happened, Close
// never leaves the Conn open.
//
// code must be one that may be sent (1000-1003, 1007-1014, 3000-4999) and
// reason at most 123 bytes of UTF-8; otherwise Close returns an error
// (matching ErrInvalidCloseCode or ErrInvalidUTF8), sends nothing and
// closes nothing.
//
// Close returns nil once its close frame was sent, whether the peer
// answered within CloseTimeout or not (Read tells which: a *CloseError with
// Received true carrying the peer's code, or one carrying this code and,
// after a timeout, an Err matching os.ErrDeadlineExceeded). If the close
// frame could not be sent (a frame being written held it up past
// CloseTimeout, the network failed), it returns that error. Close on a
// Conn that is closed already, or being closed by another call, waits (at
// most CloseTimeout) for that close to finish and returns nil if it ended
// with a closing handshake (whoever started it), or ErrClosed if the
// connection failed or was lost: a deferred Close after a normal end is
// harmless.
//
// If a failure is held back (Options.DeferFailure), Close finishes it as
// Fail does: the close frame carries the failure's code, not code and
// reason.
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
	if c.heldFailure() != nil {
		return c.Fail()
	}
	c.closeMu.Lock()
	first := !c.closing
	c.closing = true
	c.closeMu.Unlock()
	if !first || c.closeErr.Load() != nil {
		return c.closedAgain()
	}

	deadline := time.Now().Add(c.closeTimeout)
	var payload [2 + maxCloseReason]byte
	binary.BigEndian.PutUint16(payload[:], uint16(code))
	n := 2 + copy(payload[2:], reason)
	if err := c.sendControl(nil, framing.OpClose, payload[:n], c.closeTimeout, deadline); err != nil {
		if errors.Is(err, ErrClosed) {
			// The peer's close frame came first and was answered, or the
			// connection failed or was closed meanwhile.
			return c.closedAgain()
		}
		// Not sent: a frame being written held the frame lock past the
		// timeout, or the write failed (which closed the connection).
		c.shutdown(&CloseError{Code: StatusAbnormalClosure, Err: err, local: true})
		return err
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
		if err := c.drain(deadline); err != nil && !isTimeout(err) {
			cause = err // the peer ended the connection without answering
		}
		// Shut down before a waiting reader gets the lock and meets the
		// drain's expired deadline.
		c.shutdown(&CloseError{Code: code, Reason: reason, Err: cause, local: true})
		c.rd.noIdle = false
		<-c.readLock
	}
	timer.Stop()
	c.shutdown(&CloseError{Code: code, Reason: reason, Err: cause, local: true})
	return nil
}

// closeCalled reports whether Close was called.
func (c *Conn) closeCalled() bool {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	return c.closing
}

// closedAgain is Close on a Conn closed or being closed: it waits for that
// close to finish (at most CloseTimeout; then it closes the network
// connection itself) and reports how it ended.
func (c *Conn) closedAgain() error {
	c.waitClosed()
	ce := c.closeErr.Load()
	if ce == nil {
		ce = &CloseError{Code: StatusAbnormalClosure, Err: errCloseTimeout, local: true}
	}
	if err := c.shutdown(ce); err.(*CloseError).Received {
		return nil
	}
	return ErrClosed
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
	c.mr.staleReaders()
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
// Err ErrClosed (or, if a failure was held back by Options.DeferFailure,
// that failure's *CloseError). It returns ErrClosed if the Conn was
// already closed.
func (c *Conn) CloseNow() error {
	ce := c.heldFailure()
	if ce == nil {
		ce = &CloseError{Code: StatusAbnormalClosure, Err: ErrClosed, local: true}
	}
	if !c.closeErr.CompareAndSwap(nil, ce) {
		c.closeOnce.Do(c.closeNet)
		return ErrClosed
	}
	c.closeOnce.Do(c.closeNet)
	return nil
}

// fail fails the connection (RFC 6455, 7.1.7) because of cause: it sends a
// close frame with code and a short reason (unless a close frame was sent
// already), then goes on reading, discarding what the peer still sends, for
// a short time (see linger), closes the network connection and returns the
// final error. The caller holds the read lock.
func (c *Conn) fail(code StatusCode, cause error) error {
	reason := failReason(cause)
	ce := &CloseError{Code: code, Reason: reason, Err: cause}
	if !c.closeErr.CompareAndSwap(nil, ce) {
		return c.closeErr.Load()
	}
	c.sendFailure(ce)
	return c.shutdown(ce)
}

// sendFailure sends the close frame of the failure ce, unless a close frame
// was sent already, and lingers (see linger). The caller holds the read
// lock and has recorded ce as the Conn's close error.
func (c *Conn) sendFailure(ce *CloseError) {
	if c.closeSent.Load() {
		return
	}
	wait := min(c.closeTimeout, maxFinWait)
	var payload [2 + maxCloseReason]byte
	binary.BigEndian.PutUint16(payload[:], uint16(ce.Code))
	n := 2 + copy(payload[2:], ce.Reason)
	if c.sendControl(nil, framing.OpClose, payload[:n], wait, time.Now().Add(wait)) == nil {
		c.linger(!errors.Is(ce.Err, framing.ErrProtocol))
	}
}

// linger reads and discards what the peer sends after this endpoint's close
// frame, until the peer's close frame, the end of the stream, a pause of
// lingerIdle with nothing to read, or maxLinger in all (bounded by
// CloseTimeout). Closing a socket with unread data makes TCP send a reset,
// which can destroy our close frame before the peer reads it: a peer still
// sending a message that is too big would see a reset instead of the 1009.
// inSync tells that the stream is at a frame boundary once the current
// frame's remaining payload is skipped; after a protocol error it is not,
// and bytes are discarded as they come.
func (c *Conn) linger(inSync bool) {
	end := time.Now().Add(min(c.closeTimeout, maxLinger))
	left := c.rd.remaining
	for {
		if !inSync {
			left = 1 << 62
		}
		for left > 0 {
			if !c.lingerWait(end) {
				return
			}
			k, err := c.br.Discard(int(min(left, int64(max(c.br.Buffered(), 1)))))
			if err != nil {
				return
			}
			left -= int64(k)
		}
		if !c.lingerWait(end) {
			return
		}
		h, err := c.br.readHeader()
		if err != nil || h.Opcode == framing.OpClose {
			return
		}
		left = h.Length
	}
}

// lingerIdle is how long linger waits for the peer's next bytes.
const lingerIdle = 250 * time.Millisecond

// maxLinger bounds linger (and CloseTimeout bounds it further).
const maxLinger = 2 * time.Second

// lingerWait sets the read deadline for linger's next network read, if one
// is needed, and reports whether time is left.
func (c *Conn) lingerWait(end time.Time) bool {
	if c.br.Buffered() > 0 {
		return true
	}
	now := time.Now()
	if !now.Before(end) {
		return false
	}
	d := now.Add(lingerIdle)
	if d.After(end) {
		d = end
	}
	_ = c.nc.SetReadDeadline(d)
	return true
}
