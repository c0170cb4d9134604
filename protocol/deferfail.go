package protocol

import "time"

// Failing in stream order (Options.DeferFailure).
//
// Without the option, a frame header that breaks the protocol fails the
// connection inside the Read that meets it: the close frame goes out at
// once, before the application has answered the messages that came before
// the bad frame. With it, the failure is only reported: the application
// finishes answering what it received, then calls Fail (or Close, or
// CloseNow) to send the close frame; CloseTimeout bounds the wait.

// failFrame fails the connection because of a frame header that breaks the
// protocol, or, with Options.DeferFailure, records the failure (see Fail)
// and returns it. The caller holds the read lock.
func (c *Conn) failFrame(code StatusCode, cause error) error {
	if !c.deferFailure || c.rd.noIdle {
		// Without the option, or while Close reads the peer's reply
		// (nobody is left to answer anything): fail at once.
		return c.fail(code, cause)
	}
	if ce := c.closeErr.Load(); ce != nil {
		return ce
	}
	ce := &CloseError{Code: code, Reason: failReason(cause), Err: cause}
	if !c.pending.CompareAndSwap(nil, ce) {
		return c.pending.Load()
	}
	c.closeMu.Lock()
	c.pendingTimer = time.AfterFunc(c.closeTimeout, func() { _ = c.Fail() })
	c.closeMu.Unlock()
	return ce
}

// Fail finishes a failure that Options.DeferFailure held back: it sends the
// close frame with the failure's code (1002 or 1009) and reason, after any
// message written before the call, then reads and discards what the peer
// still sends for a short time, as a failure without the option does, and
// closes the network connection. Read then keeps returning the failure's
// *CloseError. Fail returns nil, also when no failure is held back (it
// then does nothing) and when the Conn is closed already; it returns at the
// latest after CloseTimeout plus the short linger.
//
// If the application calls neither Fail, Close nor CloseNow within
// CloseTimeout of the Read that reported the failure, the Conn calls Fail
// itself.
func (c *Conn) Fail() error {
	ce := c.pending.Load()
	if ce == nil {
		return nil
	}
	c.failOnce.Do(func() {
		c.closeMu.Lock()
		if c.pendingTimer != nil {
			c.pendingTimer.Stop()
		}
		c.closeMu.Unlock()
		// Reads return at once while a failure is held back: the lock is
		// free or about to be.
		select {
		case c.readLock <- struct{}{}:
			defer func() { <-c.readLock }()
		case <-c.closed:
			c.shutdown(ce)
			return
		}
		if c.closeErr.CompareAndSwap(nil, ce) {
			c.sendFailure(ce)
		}
		c.shutdown(ce)
	})
	return nil
}

// heldFailure returns the failure held back by Options.DeferFailure, or nil.
func (c *Conn) heldFailure() *CloseError { return c.pending.Load() }
