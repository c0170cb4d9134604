package protocol

import (
	"time"

	"github.com/wslua/wslua/framing"
)

// Keepalive: with Options.PingInterval > 0 a goroutine sends a ping every
// interval. Sending a ping arms a watchdog timer of PongTimeout; any pong the
// reading goroutine sees disarms it. If it fires, the connection is closed
// and Read returns a CloseError with code 1006 and Err errPongTimeout. While
// a ping is unanswered no further ping is sent. The watchdog does not depend
// on the ping's write completing, so a peer that stops reading (a write
// blocked on a full socket buffer) is detected as well.

func (c *Conn) startKeepalive() {
	c.pongTimer = time.AfterFunc(time.Hour, c.pongTimedOut)
	c.pongTimer.Stop()
	go c.keepalive()
}

func (c *Conn) keepalive() {
	t := time.NewTicker(c.pingInterval)
	defer t.Stop()
	defer c.pongTimer.Stop()
	for {
		select {
		case <-c.closed:
			return
		case <-t.C:
		}
		if c.awaitingPong.Load() || c.closeSent.Load() {
			continue
		}
		c.awaitingPong.Store(true)
		c.pongTimer.Reset(c.pongTimeout)
		// An error means the Conn is closing or closed: the loop ends when
		// the network connection is closed.
		_ = c.sendReply(nil, framing.OpPing, nil, c.ctrlTimeout)
	}
}

// pongTimedOut runs when the watchdog fires.
func (c *Conn) pongTimedOut() {
	if c.awaitingPong.Load() {
		c.shutdown(&CloseError{Code: StatusAbnormalClosure, Err: errPongTimeout})
	}
}

// gotPong is called by the reading goroutine for every pong.
func (c *Conn) gotPong() {
	if c.pongTimer != nil && c.awaitingPong.CompareAndSwap(true, false) {
		c.pongTimer.Stop()
	}
}
