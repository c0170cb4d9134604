package lua

import (
	"context"
	"errors"

	glua "github.com/yuin/gopher-lua"

	"github.com/wslua/wslua/protocol"
)

// Failing in stream order.
//
// A script sees messages in the order they came. When a frame that must
// fail the connection (a reserved bit or opcode, a continuation with
// nothing to continue, a message over max_message_size) arrives in the same
// burst as valid messages, the script must still receive the valid messages
// and its answers (an echo) must go out before the connection fails.
//
// The client's connection has protocol.Options.DeferFailure: the Read that
// meets the bad frame returns the failure (1002 or 1009) after every
// message before it, and sends nothing. The reader then delivers the final
// close message and waits until the script has received it (so it has
// dealt with every message before it), or client:close() or the host
// stopping ends the wait, at most close_timeout; then it calls Fail, which
// sends the close frame after what the script sent and ends the
// connection. The protocol fails the connection itself after close_timeout
// if nobody does.

// failInOrder runs on the reader goroutine when Read returned err. If err
// is a failure this end detected while the client is open (the protocol
// holds it back), it delivers final message m ahead of the end and waits
// for the script as above; it reports whether m was delivered. Otherwise
// it does nothing and returns false. The reader calls Fail next.
func (c *client) failInOrder(err error, m message) bool {
	var ce *protocol.CloseError
	if !errors.As(err, &ce) || ce.Remote || c.currentState() != stateOpen {
		return false
	}
	if ce.Code != protocol.StatusProtocolError && ce.Code != protocol.StatusMessageTooBig {
		return false
	}
	m.early = true
	ctx, cancel := context.WithTimeout(c.control.context(), c.closeTimeout())
	defer cancel()
	// Recorded before the script can see the message: it may send (final
	// names the end) or end at once (shutdown waits for the failure).
	c.final.Store(&m)
	c.earlyFinal.Store(true)
	c.handed.Add(1)
	if err := c.handOver(ctx, m); err != nil {
		c.earlyFinal.Store(false) // the reader delivers the message after the end
		return false
	}
	select {
	case <-c.earlySeen:
	case <-ctx.Done():
	}
	return true
}

// toLua is the receive channel's conversion function: messageToLua, and
// for the final close message delivered ahead of a failure, the signal
// that the script has received it.
func (c *client) toLua(L *glua.LState, v any) glua.LValue {
	if m, ok := v.(message); ok && m.early {
		c.markClosed()
		c.earlySeenOnce.Do(func() { close(c.earlySeen) })
	}
	return messageToLua(L, v)
}
