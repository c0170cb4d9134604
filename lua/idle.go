package lua

import "syscall"

// Waiting without a deep stack.
//
// Every connection has a reader goroutine, and on a quiet connection it
// spends its life parked inside protocol.Conn.Read, many calls deep: its
// stack grows to 4 KB and stays there. When the protocol holds nothing
// unread, the reader can instead wait for the socket to become readable at
// the top of its loop (waitReadable), where the stack is shallow: an idle
// connection's reader then keeps the smallest stack, 2 KB.
//
// The frameGuard tells when the protocol holds nothing: it sees every byte
// given to the protocol and, scanning the frames of a direct ws://
// connection, where each data message ends. When the message the protocol
// just returned ends where the bytes given to it end, nothing is buffered.
// Elsewhere (TLS, a proxy, a read_timeout whose deadline the protocol sets
// inside Read), the reader always waits in Read.
//
// A round trip costs no extra system call: the peek that finds nothing
// replaces the read that would have found nothing. A message that is
// already there when the reader looks costs one peek more.

// drained reports whether the protocol holds no byte beyond the data
// message it has just returned (the next one in g.ends), and drops that
// message's end. Reader goroutine only.
func (g *frameGuard) drained() bool {
	if !g.scanning || g.off || g.endsHead == len(g.ends) {
		return false
	}
	end := g.ends[g.endsHead]
	g.endsHead++
	if g.endsHead == len(g.ends) {
		g.ends, g.endsHead = g.ends[:0], 0
	}
	return end == g.passed
}

// drainedAtStart reports whether the protocol holds nothing once the
// opening handshake is done: no frame followed the response head.
func (g *frameGuard) drainedAtStart() bool {
	return g.scanning && !g.off && !g.inHead && g.endsHead == len(g.ends) && g.passed == g.headEnd
}

// shallowWait reports whether the reader may wait at the top of its loop
// (see waitReadable): the protocol holds nothing (drained) and sets no read
// deadline of its own (read_timeout).
func (c *client) shallowWait(drained bool) bool {
	return drained && c.opts.ReadTimeout == 0
}

// waitReadable waits until the connection's socket has bytes to read, an
// error or end of stream, or is closed (any error ends the wait: the
// protocol's Read then reports what happened). When bytes are there
// already it costs one more system call (the peek); otherwise the peek
// takes the place of the read that would have found nothing.
func (g *frameGuard) waitReadable() {
	if g.raw == nil {
		sc, ok := g.Conn.(syscall.Conn)
		if !ok {
			return
		}
		rc, err := sc.SyscallConn()
		if err != nil {
			return
		}
		g.raw, g.readable = rc, g.checkReadable
	}
	g.shallowWaits.Add(1)
	g.polled = false
	_ = g.raw.Read(g.readable)
}

// checkReadable is the RawConn.Read callback of waitReadable: false (wait
// for the poller) while the socket has nothing to read.
func (g *frameGuard) checkReadable(fd uintptr) bool {
	if g.polled {
		return true // the poller reported the socket readable
	}
	g.polled = true
	return !wouldBlock(fd, g.peek[:])
}
